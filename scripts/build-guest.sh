#!/usr/bin/env bash
# Builds the VmDebug test guest from Debian packages only: the cloud kernel plus a busybox initramfs whose /init
# takes its orders from the kernel command line (see scripts/guest/init). Cached; rebuilt when anything is missing.
#   scripts/build-guest.sh [--debug-symbols] [--kernel 6.1|6.12]    prints the guest directory on stdout
# --debug-symbols also extracts the kernel's -dbg vmlinux (283 MB download, 590 MB unpacked) for `crash`.
# --kernel picks the cloud kernel series: 6.1 (bookworm's own, the default) or 6.12 (bookworm's newer series).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${VMDEBUG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmdebug}
want_dbg=0
series=6.1
while (( $# )); do
    case $1 in
        --debug-symbols) want_dbg=1 ;;
        --kernel) series=${2:?--kernel needs 6.1 or 6.12}; shift ;;
        *) echo "build-guest: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

log() { echo "build-guest: $*" >&2; }

# The candidate versions name the current kernel ABI; it changes with every kernel update.
case $series in
    6.1)
        abi=$(apt-cache show --no-all-versions linux-image-cloud-amd64 2>/dev/null \
              | sed -n 's/^Depends:.*linux-image-\([0-9][^ ]*\)-cloud-amd64.*/\1/p' | head -n1)
        image_suffix="" ;;
    6.12)
        # No signed metapackage for 6.12 in bookworm: take the newest unsigned image.
        abi=$(apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-cloud-amd64-unsigned$' 2>/dev/null \
              | sed -n 's/^linux-image-\(6\.12\.[0-9]*+deb12\)-cloud-amd64-unsigned .*/\1/p' | sort -V | tail -n1)
        image_suffix="-unsigned" ;;
    *) log "unknown kernel series $series (use 6.1 or 6.12)"; exit 2 ;;
esac
if [[ -z $abi ]]; then
    log "cannot resolve the $series cloud kernel ABI: run 'apt-get update' first"
    exit 1
fi
kver="$abi-cloud-amd64"
dir="$cache/guest-$kver"
mkdir -p "$dir/debs"

fetch_deb() { # package -> path of its .deb in the cache
    local pkg=$1 deb
    deb=$(ls "$dir/debs/${pkg}_"*.deb 2>/dev/null | head -n1 || true)
    if [[ -z $deb ]]; then
        log "downloading $pkg"
        (cd "$dir/debs" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2)
        deb=$(ls "$dir/debs/${pkg}_"*.deb | head -n1)
    fi
    echo "$deb"
}

if [[ ! -s $dir/vmlinuz ]]; then
    deb=$(fetch_deb "linux-image-$kver$image_suffix")
    rm -rf "$dir/kernel" && mkdir -p "$dir/kernel"
    dpkg-deb -x "$deb" "$dir/kernel"
    cp "$dir/kernel/boot/vmlinuz-$kver" "$dir/vmlinuz.tmp" && mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"
fi

initrd_inputs=$(cat "$here/guest/init" "$here/build-guest.sh" /bin/busybox | sha256sum | cut -c1-16)
if [[ ! -s $dir/initrd.gz || $(cat "$dir/initrd.stamp" 2>/dev/null) != "$initrd_inputs" ]]; then
    [[ -x /bin/busybox ]] || { log "busybox-static is not installed"; exit 1; }
    [[ -d $dir/kernel ]] || dpkg-deb -x "$(fetch_deb "linux-image-$kver$image_suffix")" "$dir/kernel"
    root=$(mktemp -d)
    trap 'rm -rf "$root"' EXIT
    mkdir -p "$root"/{bin,dev,proc,sys,tmp,modules}
    cp /bin/busybox "$root/bin/busybox"
    install -m 0755 "$here/guest/init" "$root/init"
    # Load order matters: qemu_fw_cfg hands QEMU the VMCOREINFO note; without it dumps carry none.
    for m in qemu_fw_cfg pvpanic pvpanic-pci pvpanic-mmio virtio_ring virtio virtio_pci_legacy_dev \
             virtio_pci_modern_dev virtio_pci virtio_console vsock vmw_vsock_virtio_transport_common \
             vmw_vsock_virtio_transport reed_solomon deflate; do
        ko=$(find "$dir/kernel/lib/modules/$kver" -name "$m.ko" -o -name "$m.ko.xz" | head -n1)
        if [[ -z $ko ]]; then
            # 6.12 builds the virtio core in; only a module neither shipped nor built in is an error.
            grep -q "/$m.ko\$" "$dir/kernel/lib/modules/$kver/modules.builtin" 2>/dev/null && continue
            log "kernel module $m not found in linux-image-$kver"; exit 1
        fi
        # busybox insmod reads plain modules only; 6.12 ships them xz-compressed.
        case $ko in
            *.xz) xz -dc "$ko" > "$root/modules/$m.ko" ;;
            *) cp "$ko" "$root/modules/$m.ko" ;;
        esac
        echo "$m.ko" >> "$root/modules/order"
    done
    # Loaded by /init only when the command line asks (ramoops needs its parameters at load time).
    for m in ramoops; do
        ko=$(find "$dir/kernel/lib/modules/$kver" -name "$m.ko" -o -name "$m.ko.xz" | head -n1)
        [[ -n $ko ]] || { log "kernel module $m not found in linux-image-$kver"; exit 1; }
        case $ko in
            *.xz) xz -dc "$ko" > "$root/modules/$m.ko" ;;
            *) cp "$ko" "$root/modules/$m.ko" ;;
        esac
    done
    (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$dir/initrd.gz.tmp"
    mv "$dir/initrd.gz.tmp" "$dir/initrd.gz"
    echo "$initrd_inputs" > "$dir/initrd.stamp"
fi

if (( want_dbg )) && [[ ! -s $dir/vmlinux ]]; then
    deb=$(fetch_deb "linux-image-$kver-dbg")
    tmp=$(mktemp -d "$dir/dbg.XXXX")
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards "*/boot/vmlinux-$kver"
    mv "$(find "$tmp" -name "vmlinux-$kver")" "$dir/vmlinux"
    rm -rf "$tmp" "$deb"
fi

echo "$kver" > "$dir/release"
echo "$dir"
