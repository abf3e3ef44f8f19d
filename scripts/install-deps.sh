#!/usr/bin/env bash
# Installs what VmDebug's tests and demo use, from Debian's apt only. Idempotent and quiet: apt runs only when
# a package is missing. Needs root (or sudo).
set -euo pipefail
packages=(
    qemu-system-x86 qemu-utils          # the test guest under TCG
    busybox-static cpio kmod            # its initramfs
    makedumpfile crash binutils gdb     # independent readers of the dumps (readelf is in binutils)
    libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-daemon-system libvirt-daemon-system-sysv libvirt0
    libxml2-utils                       # xmllint; virt-xml-validate is in libvirt-clients
    liblzo2-2 libsnappy1v5 libzstd1     # LZO, snappy, zstd for kdump pages
    socat                               # guest-side forwarding examples and hybrid vsock checks
    openssh-server                      # PowerShell remoting over SSH to a private sshd in the Pester tests
    kexec-tools python3-drgn            # more independent readers (vmcore-dmesg, drgn)
    debuginfod                          # a local debuginfod serving -dbg packages by build id
    libarchive-tools                    # bsdtar: debuginfod -U unpacks .deb files with it (not a dependency of debuginfod)
    trace-cmd                           # joins and reports virtio-trace data
    linux-source-6.1 gcc libc6-dev make patch  # the static guest-side trace-agent (scripts/build-trace-agent.sh)
    zstd lz4 xz-utils liblzma5          # compressed process cores (systemd-coredump) and their tests
    clang zlib1g-dev                    # NativeAOT links the vmdebug executable with them (scripts/publish-cli.sh)
)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if (( ${#missing[@]} == 0 )); then
    echo "install-deps: all ${#packages[@]} packages present"
    exit 0
fi
sudo=""
(( EUID == 0 )) || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
