#!/usr/bin/env bash
# Extraction throughput of `vmdebug dump --core-file` on a real 3 GiB q35 guest's QEMU process core, as a ratio
# against `cp --sparse=always` of the same core on the same disk (the physical floor: read the core's data, write
# it back sparse, and get it to disk). Each timed run starts with cold caches when /proc/sys/vm/drop_caches is writable, and warm too.
#   bench/process-core.sh [--memory-mib N] [--format elf|kdump-zlib] [--runs N]
# Env: BENCH_DIR (default /var/tmp): where core, copy and vmcore go (same disk for both tools).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
memory=3072 format=elf runs=3
while [[ $# -gt 0 ]]; do
    case $1 in
        --memory-mib) memory=$2; shift 2 ;;
        --format) format=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        *) echo "usage: $0 [--memory-mib N] [--format elf|kdump-zlib] [--runs N]" >&2; exit 2 ;;
    esac
done
[[ $(cat /proc/sys/kernel/core_pattern) == core* ]] || { echo "core_pattern must write 'core' into the working directory" >&2; exit 1; }

bench_setup

# A guest that has booted and written its log, aborted so QEMU dumps core with guest RAM.
bench_process_core "$memory" -nodefaults
apparent=$(stat -c %s "$core"); ondisk=$(( $(stat -c %b "$core") * $(stat -c %B "$core") ))

drop() { if [[ -w /proc/sys/vm/drop_caches ]]; then sync; echo 3 > /proc/sys/vm/drop_caches; fi; }
# Both timings include getting the data to disk (vmdebug fsyncs its output; cp is followed by sync).
seconds() { local s e; sync; s=$(date +%s.%N); "$@" >/dev/null; sync; e=$(date +%s.%N); echo "$e - $s" | bc; }
best() { sort -g | head -n1; }

declare -A t
for cache in cold warm; do
    cp_times=() vd_times=()
    for _ in $(seq "$runs"); do
        [[ $cache == cold ]] && drop
        cp_times+=("$(seconds cp --sparse=always "$core" "$work/copy")"); rm -f "$work/copy"
        [[ $cache == cold ]] && drop
        vd_times+=("$(seconds "${vmdebug[@]}" dump --core-file "$core" --output "$work/vmcore" --format "$format")"); rm -f "$work/vmcore"
    done
    t[cp_$cache]=$(printf '%s\n' "${cp_times[@]}" | best)
    t[vd_$cache]=$(printf '%s\n' "${vd_times[@]}" | best)
done

ram=$(( memory * 1024 * 1024 ))
printf 'core: %s apparent, %s on disk; guest RAM %s MiB; format %s; best of %s runs\n' \
    "$(numfmt --to=iec "$apparent")" "$(numfmt --to=iec "$ondisk")" "$memory" "$format" "$runs"
for cache in cold warm; do
    cp_s=${t[cp_$cache]} vd_s=${t[vd_$cache]}
    printf '%-4s cp --sparse=always %6.2f s | vmdebug dump --core-file %6.2f s (%5.0f MiB/s of guest RAM) | ratio %.2fx (target <= 2x)\n' \
        "$cache" "$cp_s" "$vd_s" "$(echo "$ram / 1048576 / $vd_s" | bc -l)" "$(echo "$vd_s / $cp_s" | bc -l)"
done
