#!/usr/bin/env bash
# `vmdebug log --input` against `makedumpfile --dump-dmesg` on the same dumps of a real panicked 2 GiB guest: the
# ELF vmcore and the kdump-zlib file (both written by vmdebug dump, so makedumpfile reads them), as ratios of CPU time
# (user+sys, the fair figure on a shared machine) and of wall time, best and median of N runs each, the two tools'
# runs taken in turn, with a warm cache (both read the same few pages). vmdebug is the NativeAOT executable users run (scripts/publish-cli.sh); the JIT-run vmdebug.dll
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
# Runs: "CPU WALL" lines of one command, summarised as "CPU WALL" best (the minimum of each), then medians. The best
# shows the floor, the median the usual run: a start-up of a few milliseconds varies by a tenth from run to run.
summarize() {
    awk '
        { c[NR] = $1; w[NR] = $2 }
        function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t } }
        function median(a, n) { return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
        END { sort(c, NR); sort(w, NR); print c[1], w[1], median(c, NR), median(w, NR) }' "$1"
}
# N runs of each of two commands, taken in turn so that both meet the same machine: "best and medians" of the first,
# then of the second, on two lines. The commands are given as two array names.
compare() {
    local n=$1 first=$2[@] second=$3[@] a b; a=$(mktemp) b=$(mktemp)
    for _ in $(seq "$n"); do
        rm -f "$work/dmesg.txt"; measure "${!first}" >>"$a"
        rm -f "$work/dmesg.txt"; measure "${!second}" >>"$b"
    done
    summarize "$a"; summarize "$b"; rm -f "$a" "$b"
}
# N runs of one command, summarised.
summary() {
    local n=$1 t; shift; t=$(mktemp)
    for _ in $(seq "$n"); do rm -f "$work/dmesg.txt"; measure "$@" >>"$t"; done
    summarize "$t"; rm -f "$t"
}
ms() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

printf 'guest RAM %s MiB; best and median of %s runs (warm cache); load average %s\n' "$memory" "$runs" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'CPU (perf task-clock: user+sys) / wall, in ms\n'
printf '%-13s %7s | %-17s | %-17s | %9s %10s | %-17s\n' dump size 'makedumpfile' 'vmdebug (AOT)' 'CPU ratio' 'wall ratio' 'vmdebug.dll (JIT)'
for dump in vmcore.elf vmcore.kdump; do
    rm -f "$work/reference.txt"
    makedumpfile --dump-dmesg --message-level 0 "$work/$dump" "$work/reference.txt" >/dev/null
    cmp <("${vmdebug[@]}" log --input "$work/$dump") "$work/reference.txt" || { echo "$dump: texts differ" >&2; exit 1; }
    peer=(makedumpfile --dump-dmesg --message-level 0 "$work/$dump" "$work/dmesg.txt")
    ours=("${vmdebug[@]}" log --input "$work/$dump")
    { read -r mc mw mmc mmw; read -r vc vw vmc vmw; } < <(compare "$runs" peer ours)
    read -r jc jw _ _ < <(summary "$runs" "${jit[@]}" log --input "$work/$dump")
    printf '%-13s %7s | %7s / %7s | %7s / %7s | %9s %10s | %7s / %7s\n' "$dump" "$(numfmt --to=iec "$(stat -c %s "$work/$dump")")" \
        "$(ms "$mc")" "$(ms "$mw")" "$(ms "$vc")" "$(ms "$vw")" "$(ratio "$vc" "$mc")" "$(ratio "$vw" "$mw")" "$(ms "$jc")" "$(ms "$jw")"
    printf '%-13s %7s | %7s / %7s | %7s / %7s | %9s %10s |   (medians)\n' "" "" \
        "$(ms "$mmc")" "$(ms "$mmw")" "$(ms "$vmc")" "$(ms "$vmw")" "$(ratio "$vmc" "$mmc")" "$(ratio "$vmw" "$mmw")"
done
read -r vc vw _ _ < <(summary "$runs" "${vmdebug[@]}" --version)
read -r jc jw _ _ < <(summary "$runs" "${jit[@]}" --version)
printf 'start-up, vmdebug --version: AOT %s ms CPU / %s ms wall; JIT %s ms CPU / %s ms wall\n' "$(ms "$vc")" "$(ms "$vw")" "$(ms "$jc")" "$(ms "$jw")"
printf 'executable: %s (%s bytes)\n' "${vmdebug[0]}" "$(stat -c %s "${vmdebug[0]}")"
