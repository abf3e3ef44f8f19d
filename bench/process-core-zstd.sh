#!/usr/bin/env bash
# Extraction from a systemd-coredump-style .zst QEMU process core (a real q35 guest with default devices, 3 GiB
# unless told), as a ratio against `zstd -dc core.zst > /dev/null` on the same file: the floor, one decompression and
# nothing else. vmdebug decompresses the stream once, writing guest RAM into the ELF vmcore as it comes, then adds the
# headers; all runs use warm caches (the compressed file is small). CPU time (user + system) is the figure that
# counts on a shared machine, where wall time says more about the load than the code; both are printed, median of
# the runs, with `vmdebug --version` (start-up alone) so the extraction's own share shows.
#   bench/process-core-zstd.sh [--memory-mib N] [--runs N] [--keep-core FILE.zst | --core FILE.zst]
# --keep-core saves the compressed core for later runs; --core reuses one (no guest is booted).
# Env: BENCH_DIR (default /var/tmp): where core and vmcore go. VMDEBUG: the vmdebug command to measure instead of the
# Release build's `dotnet vmdebug.dll` (e.g. a NativeAOT binary).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
memory=3072 runs=3 keep= reuse=
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

bench_setup
if [[ -n ${VMDEBUG:-} ]]; then read -r -a vmdebug <<<"$VMDEBUG"; fi

if [[ -n $reuse ]]; then
    cp "$reuse" "$work/core.zst"
    apparent=$(zstd -dc "$work/core.zst" | wc -c)
    memory=?
else
    [[ $(cat /proc/sys/kernel/core_pattern) == core* ]] || { echo "core_pattern must write 'core' into the working directory" >&2; exit 1; }
    # Default devices (std VGA, SeaBIOS), as guests outside tests have them.
    bench_process_core "$memory"
    zstd -q -1 -T2 "$core" -o "$work/core.zst"
    apparent=$(stat -c %s "$core")
    rm -f "$core"
    [[ -z $keep ]] || cp "$work/core.zst" "$keep"
fi
compressed=$(stat -c %s "$work/core.zst")

# Runs a command under /usr/bin/time; prints "wall cpu peak-KiB".
measure() { /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@" >/dev/null; awk '{ print $1, $2 + $3, $4 }' "$work/time"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
zw=() zc=() vw=() vc=() sc=() rss=()
for _ in $(seq "$runs"); do
    read -r wall cpu _ < <(measure sh -c "zstd -dc '$work/core.zst' > /dev/null")
    zw+=("$wall") zc+=("$cpu")
    read -r _ cpu _ < <(measure "${vmdebug[@]}" --version)
    sc+=("$cpu")
    read -r wall cpu kib < <(measure "${vmdebug[@]}" dump --core-file "$work/core.zst" --output "$work/vmcore")
    vw+=("$wall") vc+=("$cpu") rss+=("$kib"); rm -f "$work/vmcore"
done
zwm=$(median "${zw[@]}") zcm=$(median "${zc[@]}") vwm=$(median "${vw[@]}") vcm=$(median "${vc[@]}") scm=$(median "${sc[@]}")
peak=$(printf '%s\n' "${rss[@]}" | sort -g | tail -n1)
alone=$(echo "$vcm - $scm" | bc -l)
ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }
printf 'core: %s apparent, %s as .zst; guest RAM %s MiB; median of %s runs; load average %s\n' \
    "$(numfmt --to=iec "$apparent")" "$(numfmt --to=iec "$compressed")" "$memory" "$runs" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '| | CPU, user + sys | Wall | CPU ratio | Peak RSS |\n| --- | --- | --- | --- | --- |\n'
printf '| `zstd -dc core.zst > /dev/null` | %.2f s | %.2f s | 1 | |\n' "$zcm" "$zwm"
printf '| `vmdebug dump --core-file core.zst` | %.2f s | %.2f s | %s | %s MiB |\n' "$vcm" "$vwm" "$(ratio "$vcm" "$zcm")" "$(( peak / 1024 ))"
printf '| of which start-up (`vmdebug --version`) | %.2f s | | | |\n' "$scm"
printf '| extraction without start-up | %.2f s | | %s | |\n' "$alone" "$(ratio "$alone" "$zcm")"
printf 'ratio %sx CPU end to end (target <= 1.5x), %sx wall\n' "$(ratio "$vcm" "$zcm")" "$(ratio "$vwm" "$zwm")"
