#!/usr/bin/env bash
# Extraction from a systemd-coredump-style .zst QEMU process core (a real q35 guest with default devices), as a
# ratio against `zstd -dc core.zst > /dev/null` on the same file: the floor, one decompression and nothing else.
# vmdebug decompresses the stream once, writing guest RAM into the ELF vmcore as it comes (decompression on a thread
# of its own), then adds the headers; all runs use warm caches (the compressed file is small). CPU time (user +
# system) is the figure that counts on a shared machine, where wall time says more about the load than the code;
# both are printed, median of the runs, with `vmdebug --version` (start-up alone) so the engine's own share shows.
#   bench/process-core-zstd.sh [--memory-mib N] [--runs N] [--keep-core FILE.zst | --core FILE.zst]
# --keep-core saves the compressed core for later runs; --core reuses one (no guest is booted).
# Env: BENCH_DIR (default /var/tmp): where core and vmcore go. VMDEBUG: the vmdebug command to measure (default:
# the Release build's, NativeAOT binary if published, else `dotnet vmdebug.dll`).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
memory=1024 runs=3 keep= reuse=
while [[ $# -gt 0 ]]; do
    case $1 in
        --memory-mib) memory=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --keep-core) keep=$2; shift 2 ;;
        --core) reuse=$2; shift 2 ;;
        *) echo "usage: $0 [--memory-mib N] [--runs N] [--keep-core FILE.zst | --core FILE.zst]" >&2; exit 2 ;;
    esac
done
command -v zstd >/dev/null || { echo "zstd not installed: apt-get install zstd" >&2; exit 1; }

if [[ -n ${VMDEBUG:-} ]]; then
    read -r -a vmdebug <<<"$VMDEBUG"
else
    dotnet build -c Release -v q "$here/src/VmDebug.Cli" >&2
    vmdebug=(dotnet "$here/src/VmDebug.Cli/bin/Release/net8.0/vmdebug.dll")
fi
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/vmdebug-bench-XXXXXX")
qemu_pid=
cleanup() { [[ -n $qemu_pid ]] && kill -9 "$qemu_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

if [[ -n $reuse ]]; then
    cp "$reuse" "$work/core.zst"
    apparent=$(zstd -lv "$work/core.zst" 2>/dev/null | awk '/Decompressed Size/ { gsub(/[(),]/, ""); print $(NF-1) }')
    apparent=${apparent:-0}
else
    [[ $(cat /proc/sys/kernel/core_pattern) == core* ]] || { echo "core_pattern must write 'core' into the working directory" >&2; exit 1; }
    guest=$("$here/scripts/build-guest.sh")
    # Default devices (std VGA, SeaBIOS), as guests outside tests have them.
    (cd "$work" && ulimit -c unlimited && exec qemu-system-x86_64 -display none -nic none -no-reboot -m "${memory}M" \
        -kernel "$guest/vmlinuz" -initrd "$guest/initrd.gz" -serial "file:$work/console.log" -device vmcoreinfo \
        -machine q35,accel=tcg,dump-guest-core=on -append 'console=ttyS0 panic=0 quiet loglevel=6 vmdebug.markers=3' \
        </dev/null 2>"$work/qemu.stderr") &
    qemu_pid=$!
    for _ in $(seq 600); do grep -q 'vmdebug marker 3' "$work/console.log" 2>/dev/null && break; sleep 0.2; done
    grep -q 'vmdebug marker 3' "$work/console.log" || { echo "guest did not boot" >&2; exit 1; }
    kill -ABRT "$qemu_pid"; wait "$qemu_pid" 2>/dev/null || true; qemu_pid=
    core=$(ls "$work"/core* | head -n1)
    zstd -q -1 -T2 "$core" -o "$work/core.zst"
    apparent=$(stat -c %s "$core")
    rm -f "$core"
    [[ -z $keep ]] || cp "$work/core.zst" "$keep"
fi
compressed=$(stat -c %s "$work/core.zst")

# Runs a command under /usr/bin/time; prints "wall cpu peak-KiB".
measure() { /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@" >/dev/null; awk '{ print $1, $2 + $3, $4 }' "$work/time"; }
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
zw=() zc=() vw=() vc=() sc=() rss=()
for _ in $(seq "$runs"); do
    read -r wall cpu _ < <(measure sh -c "zstd -dc '$work/core.zst' > /dev/null")
    zw+=("$wall") zc+=("$cpu")
    read -r _ cpu _ < <(measure "${vmdebug[@]}" --version)
    sc+=("$cpu")
    read -r wall cpu kib < <(measure "${vmdebug[@]}" dump --core-file "$work/core.zst" --output "$work/vmcore")
    vw+=("$wall") vc+=("$cpu") rss+=("$kib"); rm -f "$work/vmcore"
done
m() { printf '%s\n' "$@" | median; }
zwm=$(m "${zw[@]}") zcm=$(m "${zc[@]}") vwm=$(m "${vw[@]}") vcm=$(m "${vc[@]}") scm=$(m "${sc[@]}")
peak=$(printf '%s\n' "${rss[@]}" | sort -g | tail -n1)
engine=$(echo "$vcm - $scm" | bc -l)
printf 'core: %s apparent, %s as .zst; guest RAM %s MiB; median of %s runs; load average %s\n' \
    "$(numfmt --to=iec "$apparent")" "$(numfmt --to=iec "$compressed")" "$memory" "$runs" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '| | CPU user+sys (median) | Wall (median) | CPU ratio | Peak RSS |\n| --- | --- | --- | --- | --- |\n'
printf '| `zstd -dc core.zst > /dev/null` | %.2f s | %.2f s | 1 | - |\n' "$zcm" "$zwm"
printf '| `vmdebug dump --core-file core.zst` | %.2f s | %.2f s | %.2f | %s MiB |\n' "$vcm" "$vwm" "$(echo "$vcm / $zcm" | bc -l)" "$(( peak / 1024 ))"
printf '| of which start-up (`vmdebug --version`) | %.2f s | | | |\n' "$scm"
printf '| extraction alone (difference) | %.2f s | | %.2f | |\n' "$engine" "$(echo "$engine / $zcm" | bc -l)"
printf 'ratio %.2fx CPU end to end, %.2fx wall (target <= 1.5x)\n' "$(echo "$vcm / $zcm" | bc -l)" "$(echo "$vwm / $zwm" | bc -l)"
