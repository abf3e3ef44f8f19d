#!/usr/bin/env bash
# `vmdebug log --input` against `makedumpfile --dump-dmesg` on the same dumps of a real panicked 2 GiB guest: the
# ELF vmcore and the kdump-zlib file (both written by vmdebug dump, so makedumpfile reads them), as ratios of CPU time
# (user+sys, the fair figure on a shared machine) and of wall time, best of N runs with a warm cache (both read the
# same few pages). vmdebug is the NativeAOT executable users run (scripts/publish-cli.sh); the JIT-run vmdebug.dll
# of the same code is shown beside it for comparison. Then start-up alone (`vmdebug --version`) and the executable's
# size. The texts are compared first: a ratio of different outputs would mean nothing.
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
command -v perf >/dev/null || { echo "perf is not installed (apt-get install linux-perf)" >&2; exit 1; }

bench_setup
dotnet build -c Release -nologo -v q "$bench_root/src/VmDebug.Cli" >&2
jit=(dotnet "$bench_root/src/VmDebug.Cli/bin/Release/net8.0/vmdebug.dll")

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

# One run: "CPU WALL" in seconds. CPU is perf's task-clock (user + sys of every thread and child, in microseconds:
# /usr/bin/time's 10 ms ticks cannot tell a 3 ms run from a 9 ms one); wall is a second run without perf around it.
measure() {
    local t s e; t=$(mktemp)
    perf stat -x, -e task-clock -o "$t" "$@" >/dev/null 2>&1
    rm -f "$work/dmesg.txt"
    s=$EPOCHREALTIME; "$@" >/dev/null 2>&1; e=$EPOCHREALTIME
    awk -F, -v s="$s" -v e="$e" '$3 == "task-clock" { printf "%.6f %.6f\n", $1 / 1000, e - s }' "$t"
    rm -f "$t"
}
# Best of N runs of a command: "CPU WALL", each the minimum over the runs.
best() {
    local n=$1; shift
    for _ in $(seq "$n"); do rm -f "$work/dmesg.txt"; measure "$@"; done |
        sort -g -k1,1 | awk 'NR == 1 { c = $1 } { if (w == "" || $2 < w) w = $2 } END { print c, w }'
}
ms() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

printf 'guest RAM %s MiB; best of %s runs (warm cache); load average %s\n' "$memory" "$runs" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'CPU (perf task-clock: user+sys) / wall, in ms\n'
printf '%-13s %7s | %-17s | %-17s | %9s %10s | %-17s\n' dump size 'makedumpfile' 'vmdebug (AOT)' 'CPU ratio' 'wall ratio' 'vmdebug.dll (JIT)'
for dump in vmcore.elf vmcore.kdump; do
    rm -f "$work/reference.txt"
    makedumpfile --dump-dmesg --message-level 0 "$work/$dump" "$work/reference.txt" >/dev/null
    cmp <("${vmdebug[@]}" log --input "$work/$dump") "$work/reference.txt" || { echo "$dump: texts differ" >&2; exit 1; }
    read -r mc mw < <(best "$runs" makedumpfile --dump-dmesg --message-level 0 "$work/$dump" "$work/dmesg.txt")
    read -r vc vw < <(best "$runs" "${vmdebug[@]}" log --input "$work/$dump")
    read -r jc jw < <(best "$runs" "${jit[@]}" log --input "$work/$dump")
    printf '%-13s %7s | %7s / %7s | %7s / %7s | %9s %10s | %7s / %7s\n' "$dump" "$(numfmt --to=iec "$(stat -c %s "$work/$dump")")" \
        "$(ms "$mc")" "$(ms "$mw")" "$(ms "$vc")" "$(ms "$vw")" "$(ratio "$vc" "$mc")" "$(ratio "$vw" "$mw")" "$(ms "$jc")" "$(ms "$jw")"
done
read -r vc vw < <(best "$runs" "${vmdebug[@]}" --version)
read -r jc jw < <(best "$runs" "${jit[@]}" --version)
printf 'start-up, vmdebug --version: AOT %s ms CPU / %s ms wall; JIT %s ms CPU / %s ms wall\n' "$(ms "$vc")" "$(ms "$vw")" "$(ms "$jc")" "$(ms "$jw")"
printf 'executable: %s (%s bytes)\n' "${vmdebug[0]}" "$(stat -c %s "${vmdebug[0]}")"
