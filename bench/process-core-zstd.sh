#!/usr/bin/env bash
# Extraction from a systemd-coredump-style .zst QEMU process core (a real 3 GiB q35 guest with default devices), as
# a ratio against `zstd -dc core.zst > /dev/null` on the same file: the floor, one decompression and nothing else.
# vmdebug decompresses the stream once, writing guest RAM into the ELF vmcore as it comes (decompression on a thread
# of its own), then adds the headers; both runs use warm caches (the compressed file is small). Wall and CPU
# (user + system) times are both given: on a shared machine the wall time says more about the load than the code.
#   bench/process-core-zstd.sh [--memory-mib N] [--runs N]
# Env: BENCH_DIR (default /var/tmp): where core and vmcore go.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
memory=3072 runs=3
while [[ $# -gt 0 ]]; do
    case $1 in
        --memory-mib) memory=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        *) echo "usage: $0 [--memory-mib N] [--runs N]" >&2; exit 2 ;;
    esac
done
[[ $(cat /proc/sys/kernel/core_pattern) == core* ]] || { echo "core_pattern must write 'core' into the working directory" >&2; exit 1; }
command -v zstd >/dev/null || { echo "zstd not installed: apt-get install zstd" >&2; exit 1; }

bench_setup

# Default devices (std VGA, SeaBIOS), as guests outside tests have them.
bench_process_core "$memory"
zstd -q -1 -T2 "$core" -o "$work/core.zst"
apparent=$(stat -c %s "$core"); compressed=$(stat -c %s "$work/core.zst")
rm -f "$core"

# Runs a command under /usr/bin/time; prints "wall cpu peak-KiB".
measure() { /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@" >/dev/null; awk '{ print $1, $2 + $3, $4 }' "$work/time"; }
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
zstd_times=() zstd_cpu=() vd_times=() vd_cpu=() rss=()
for _ in $(seq "$runs"); do
    read -r wall cpu _ < <(measure sh -c "zstd -dc '$work/core.zst' > /dev/null")
    zstd_times+=("$wall") zstd_cpu+=("$cpu")
    read -r wall cpu kib < <(measure "${vmdebug[@]}" dump --core-file "$work/core.zst" --output "$work/vmcore")
    vd_times+=("$wall") vd_cpu+=("$cpu") rss+=("$kib"); rm -f "$work/vmcore"
done
z=$(printf '%s\n' "${zstd_times[@]}" | median) v=$(printf '%s\n' "${vd_times[@]}" | median)
zc=$(printf '%s\n' "${zstd_cpu[@]}" | median) vc=$(printf '%s\n' "${vd_cpu[@]}" | median)
peak=$(printf '%s\n' "${rss[@]}" | sort -g | tail -n1)
printf 'core: %s apparent, %s as .zst; guest RAM %s MiB; median of %s runs\n' \
    "$(numfmt --to=iec "$apparent")" "$(numfmt --to=iec "$compressed")" "$memory" "$runs"
printf 'zstd -dc > /dev/null %6.2f s (CPU %.2f s) | vmdebug dump --core-file core.zst %6.2f s (CPU %.2f s), peak RSS %s MiB\n' \
    "$z" "$zc" "$v" "$vc" "$(( peak / 1024 ))"
printf 'ratio %.2fx wall, %.2fx CPU (target <= 1.5x)\n' "$(echo "$v / $z" | bc -l)" "$(echo "$vc / $zc" | bc -l)"
