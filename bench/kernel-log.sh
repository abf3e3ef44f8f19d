#!/usr/bin/env bash
# `vmdebug log --input` against `makedumpfile --dump-dmesg` on the same dumps of a real panicked 2 GiB guest: the
# ELF vmcore and the kdump-zlib file (both written by vmdebug dump, so makedumpfile reads them), as a ratio of
# wall times, best of N runs with a warm cache (both read the same few pages). vmdebug's time includes starting .NET.
# The texts are compared first: a ratio of different outputs would mean nothing.
#   bench/kernel-log.sh [--memory-mib N] [--runs N]
# Env: BENCH_DIR (default /var/tmp): where the dumps go.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
memory=2048 runs=5
while [[ $# -gt 0 ]]; do
    case $1 in
        --memory-mib) memory=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        *) echo "usage: $0 [--memory-mib N] [--runs N]" >&2; exit 2 ;;
    esac
done
command -v makedumpfile >/dev/null || { echo "makedumpfile is not installed (apt-get install makedumpfile)" >&2; exit 1; }

bench_setup

qemu-system-x86_64 -nodefaults -display none -nic none -no-reboot -m "${memory}M" -kernel "$guest/vmlinuz" \
    -initrd "$guest/initrd.gz" -serial "file:$work/console.log" -device vmcoreinfo -device pvpanic-pci -action panic=pause \
    -machine q35,accel=tcg -qmp "unix:$work/qmp.sock,server=on,wait=off" \
    -append 'console=ttyS0 panic=0 quiet loglevel=6 vmdebug.markers=200 vmdebug.panic_after=0' </dev/null 2>"$work/qemu.stderr" &
qemu_pid=$!
bench_wait_console 'Kernel panic' 180
sleep 1
"${vmdebug[@]}" dump --socket "$work/qmp.sock" --format elf --output "$work/vmcore.elf" >/dev/null
"${vmdebug[@]}" dump --socket "$work/qmp.sock" --format kdump-zlib --output "$work/vmcore.kdump" >/dev/null
kill -9 "$qemu_pid"; wait "$qemu_pid" 2>/dev/null || true; qemu_pid=

seconds() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
best() { sort -g | head -n1; }
printf 'guest RAM %s MiB; best of %s runs (warm cache)\n' "$memory" "$runs"
printf '%-12s %10s %12s %14s %8s\n' dump size makedumpfile 'vmdebug log' ratio
for dump in vmcore.elf vmcore.kdump; do
    rm -f "$work/reference.txt"
    makedumpfile --dump-dmesg --message-level 0 "$work/$dump" "$work/reference.txt" >/dev/null
    cmp <("${vmdebug[@]}" log --input "$work/$dump") "$work/reference.txt" || { echo "$dump: texts differ" >&2; exit 1; }
    md=() vd=()
    for _ in $(seq "$runs"); do
        rm -f "$work/dmesg.txt"
        md+=("$(seconds makedumpfile --dump-dmesg --message-level 0 "$work/$dump" "$work/dmesg.txt")")
        vd+=("$(seconds "${vmdebug[@]}" log --input "$work/$dump")")
    done
    m=$(printf '%s\n' "${md[@]}" | best); v=$(printf '%s\n' "${vd[@]}" | best)
    printf '%-12s %10s %11.3fs %13.3fs %7.2fx\n' "$dump" "$(numfmt --to=iec "$(stat -c %s "$work/$dump")")" "$m" "$v" "$(echo "$v / $m" | bc -l)"
done
