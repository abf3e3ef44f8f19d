#!/usr/bin/env bash
# Dump levels and codecs on a guest whose RAM holds real data, against makedumpfile and QEMU's own writer.
# The test guest (2 GiB by default) gets real host files (shared libraries) in its rootfs page cache, a process
# holding some of them in anonymous memory, and free pages that held data (bench/guest/bench-init). Then:
#   - live: how long the guest stays paused (QEMU's STOP to RESUME event, median of 3 interleaved rounds) while QEMU
#     writes a raw ELF into a file, its own kdump-zlib, and VmDebug's KdumpZstd at -d 31 (QEMU streams its ELF into
#     VmDebug's pipe; VmDebug classifies the paused guest's struct pages alongside, drops excluded pages in the kernel
#     and spools the kept ones raw, compressing them after the guest resumes);
#   - offline, on the same ELF: time and size of VmDebug against makedumpfile -c / -l at -d 1 and -d 31, and
#     VmDebug's zstd and snappy figures (median of 3), wall time and CPU time (user+sys: on a shared machine the
#     wall times mean little, CPU time is what the work costs; VmDebug's can exceed its wall time, it compresses on
#     every core).
# Usage: bench/dump-levels.sh [GUEST_MIB [DATA_MIB [ANON_MIB [FREED_MIB]]]]
# Env: KEEP_ELF=PATH keeps the guest's ELF vmcore there; BENCH_ELF=PATH measures only the offline rows on that ELF
# (no guest, no live dump), to iterate on one input.
set -euo pipefail
cd "$(dirname "$0")/.."
mib=${1:-2048} data_mib=${2:-900} anon_mib=${3:-150} freed_mib=${4:-300}
source bench/lib.sh
bench_setup
vmdebug() { "${vmdebug[@]}" "$@"; }
seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null 2>&1; end=$(date +%s.%N); echo "$end - $start" | bc; }
median() { sort -n | sed -n 2p; }
# "WALL CPU" of one run, CPU = user + sys of the command and its children.
wall_cpu() { /usr/bin/time -f '%e %U %S' -o "$work/time" "$@" >/dev/null 2>&1; awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "$work/time"; }
elf=${BENCH_ELF:-$work/vmcore.elf} live_rows=
if [[ -z ${BENCH_ELF:-} ]]; then
live_rows=1

# Real files for the page cache: the host's shared libraries, up to DATA_MIB.
mkdir -p "$work/root/bench/data"
cp bench/guest/bench-init "$work/root/bench-init"
find /usr/lib/x86_64-linux-gnu -maxdepth 2 -type f -size +64k -printf '%s %p\n' | sort -k2 | awk -v max=$((data_mib << 20)) \
    '{ total += $1; if (total > max) exit; print $2 }' | while read -r f; do cp "$f" "$work/root/bench/data/$(echo "$f" | tr / _)"; done
(cd "$work/root" && find . | cpio -o -H newc --quiet) > "$work/data.cpio"
# Uncompressed archives concatenate cleanly (the kernel unpacks them in turn).
{ gzip -dc "$guest/initrd.gz"; cat "$work/data.cpio"; } > "$work/initrd"; rm "$work/data.cpio"

qemu-system-x86_64 -machine q35,accel=tcg -nodefaults -display none -nic none -m "$mib" \
    -kernel "$guest/vmlinuz" -initrd "$work/initrd" -serial "file:$work/console.log" \
    -append "console=ttyS0 panic=0 quiet rdinit=/bench-init vmdebug.anon_mb=$anon_mib vmdebug.free_mb=$freed_mib" \
    -device pvpanic-pci -device vmcoreinfo -qmp "unix:$work/qmp.sock,server=on,wait=off" &
qemu_pid=$!
bench_wait_console 'bench data ready' 600

qemu_pause() { python3 bench/qmp-pause.py "$work/qmp.sock" "$1" "$2"; } # format file: QEMU's STOP-to-RESUME span
field() { python3 -c 'import json,sys
v=json.load(sys.stdin)[sys.argv[1]]
if isinstance(v, str): h,m,s=v.split(":"); v=int(h)*3600+int(m)*60+float(s)
print(v)' "$1"; }
for round in 1 2 3; do
    qemu_pause elf "$work/qemu.elf" >> "$work/pause-elf"; rm -f "$work/qemu.elf"
    # VmDebug streams: QEMU writes its ELF into VmDebug's pipe; guestPaused is the same STOP-to-RESUME span.
    start=$(date +%s.%N)
    live=$(vmdebug dump --socket "$work/qmp.sock" --format kdump-zstd --dump-level 31 --output "$work/live.zst" --json)
    echo "$(date +%s.%N) - $start" | bc >> "$work/total-ours"
    echo "$live" | field guestPaused >> "$work/pause-ours"
    echo "$live" | field classifiedWhilePaused >> "$work/classify-ours"
    spool_ours=$(echo "$live" | field spoolBytes)
    size_live=$(stat -c %s "$work/live.zst"); rm -f "$work/live.zst"
done
pause_elf=$(median < "$work/pause-elf") pause_ours=$(median < "$work/pause-ours")
total_ours=$(median < "$work/total-ours") classify_ours=$(median < "$work/classify-ours")
pause_zlib=$(qemu_pause kdump-zlib "$work/qemu.kdump-zlib")
size_qemu_zlib=$(stat -c %s "$work/qemu.kdump-zlib"); rm -f "$work/qemu.kdump-zlib"
vmdebug dump --socket "$work/qmp.sock" --format elf --output "$work/vmcore.elf" >/dev/null
kill "$qemu_pid"; qemu_pid=
if [[ -n ${KEEP_ELF:-} ]]; then cp "$elf" "$KEEP_ELF"; fi
fi

run3() { for _ in 1 2 3; do rm -f "$work/out"; seconds "$@"; done | median; }
# "WALL CPU": the median of 3 runs of each.
run3_cpu() {
    local runs; runs=$(for _ in 1 2 3; do rm -f "$work/out"; wall_cpu "$@"; done)
    echo "$(cut -d' ' -f1 <<<"$runs" | median) $(cut -d' ' -f2 <<<"$runs" | median)"
}
mb() { echo "scale=1; $(stat -c %s "$1") / 1000000" | bc; }

vmdebug mem-usage --input "$elf"
echo
startup=$(run3 vmdebug --help)
echo "load average while measuring: $(cut -d' ' -f1-3 /proc/loadavg); vmdebug process start-up (vmdebug --help): $(printf %.2f "$startup") s"
described="a ${mib} MiB guest with ${data_mib} MiB of files, ${anon_mib} MiB anonymous, ${freed_mib} MiB freed"
echo "input: $(du -h --apparent-size "$elf" | cut -f1) ELF of ${BENCH_ELF:-$described}; $(nproc) cores"
echo
echo "| Level | Codec | VmDebug: wall (CPU), size | makedumpfile 1.7.2: wall (CPU), size | Time ratio | CPU ratio | Size ratio |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for level in 1 31; do
    for pair in "zlib:-c" "lzo:-l" "zstd:" "snappy:"; do
        codec=${pair%%:*} flag=${pair#*:}
        read -r ours ours_cpu < <(run3_cpu "${vmdebug[@]}" convert --input "$elf" --output "$work/out" --format "kdump-$codec" --dump-level $level --force)
        vmdebug convert --input "$elf" --output "$work/ours" --format "kdump-$codec" --dump-level $level --force >/dev/null
        if [[ -n $flag ]]; then
            read -r theirs theirs_cpu < <(run3_cpu makedumpfile $flag -d $level --message-level 0 "$elf" "$work/out")
            makedumpfile $flag -d $level --message-level 0 "$elf" "$work/theirs" >/dev/null 2>&1
            printf '| -d %s | %s | %.2f s (%.2f s), %s MB | %.2f s (%.2f s, `%s`), %s MB | %.2f | %.2f | %.3f |\n' $level $codec "$ours" "$ours_cpu" \
                "$(mb "$work/ours")" "$theirs" "$theirs_cpu" "$flag" "$(mb "$work/theirs")" "$(echo "$ours / $theirs" | bc -l)" \
                "$(echo "$ours_cpu / $theirs_cpu" | bc -l)" "$(echo "$(stat -c %s "$work/ours") / $(stat -c %s "$work/theirs")" | bc -l)"
        else
            printf '| -d %s | %s | %.2f s (%.2f s), %s MB | (Debian'"'"'s makedumpfile has no %s) | | | |\n' $level $codec "$ours" "$ours_cpu" "$(mb "$work/ours")" "$codec"
        fi
        rm -f "$work/ours" "$work/theirs"
    done
done
[[ -n $live_rows ]] || exit 0
echo
echo "| Live dump of the running guest | Guest paused | File |"
echo "| --- | --- | --- |"
printf '| QEMU raw ELF | %.2f s | %s MB |\n' "$pause_elf" "$(echo "scale=1; $(stat -c %s "$elf") / 1000000" | bc)"
printf '| QEMU kdump-zlib | %.2f s | %s MB |\n' "$pause_zlib" "$(echo "scale=1; $size_qemu_zlib / 1000000" | bc)"
printf '| VmDebug KdumpZstd -d 31 (streamed through a pipe) | %.2f s (%.2f× the raw ELF; classifying %.2f s of it, alongside the stream; %.2f s in all, spool %s MB) | %s MB |\n' \
    "$pause_ours" "$(echo "$pause_ours / $pause_elf" | bc -l)" "$classify_ours" "$total_ours" "$(echo "scale=1; $spool_ours / 1000000" | bc)" \
    "$(echo "scale=1; $size_live / 1000000" | bc)"
