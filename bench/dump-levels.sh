#!/usr/bin/env bash
# Dump levels and codecs on a guest whose RAM holds real data, against makedumpfile and QEMU's own writer.
# The test guest (2 GiB by default) gets real host files (shared libraries) in its rootfs page cache, a process
# holding some of them in anonymous memory, and free pages that held data (bench/guest/bench-init). Then:
#   - live: how long the guest stays paused while QEMU writes a raw ELF, its own kdump-zlib, and VmDebug's
#     KdumpZstd at -d 31 (QEMU streams its ELF into VmDebug's pipe; VmDebug compresses as it comes, classifies after);
#   - offline, on the same ELF: time and size of VmDebug against makedumpfile -c / -l at -d 1 and -d 31, and
#     VmDebug's zstd and snappy figures (median of 3).
# Usage: bench/dump-levels.sh [GUEST_MIB [DATA_MIB [ANON_MIB [FREED_MIB]]]]
set -euo pipefail
cd "$(dirname "$0")/.."
mib=${1:-2048} data_mib=${2:-900} anon_mib=${3:-150} freed_mib=${4:-300}
source bench/lib.sh
bench_setup
vmdebug() { "${vmdebug[@]}" "$@"; }

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

seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null 2>&1; end=$(date +%s.%N); echo "$end - $start" | bc; }
qmp_dump() { # format file: QEMU writes synchronously (no detach), so the command's time is the guest's pause
    vmdebug qmp --socket "$work/qmp.sock" --timeout 600 --execute dump-guest-memory \
        --arguments "{\"paging\":false,\"protocol\":\"file:$2\",\"format\":\"$1\"}"
}
pause_elf=$(seconds qmp_dump elf "$work/qemu.elf")
pause_zlib=$(seconds qmp_dump kdump-zlib "$work/qemu.kdump-zlib")
size_qemu_zlib=$(stat -c %s "$work/qemu.kdump-zlib"); rm -f "$work/qemu.kdump-zlib"
# VmDebug streams: QEMU writes its ELF into VmDebug's pipe; the guest is paused until that stream ends (guestPaused).
start=$(date +%s.%N)
live=$(vmdebug dump --socket "$work/qmp.sock" --format kdump-zstd --dump-level 31 --output "$work/live.zst" --json)
total_ours=$(echo "$(date +%s.%N) - $start" | bc)
pause_ours=$(echo "$live" | python3 -c 'import json,sys; h,m,s=json.load(sys.stdin)["guestPaused"].split(":"); print(int(h)*3600+int(m)*60+float(s))')
spool_ours=$(echo "$live" | python3 -c 'import json,sys; print(json.load(sys.stdin)["spoolBytes"])')
size_live=$(stat -c %s "$work/live.zst"); rm -f "$work/live.zst" "$work/qemu.elf"
vmdebug dump --socket "$work/qmp.sock" --format elf --output "$work/vmcore.elf" >/dev/null
kill "$qemu_pid"; qemu_pid=

median() { sort -n | sed -n 2p; }
run3() { for _ in 1 2 3; do rm -f "$work/out"; seconds "$@"; done | median; }
mb() { echo "scale=1; $(stat -c %s "$1") / 1000000" | bc; }

vmdebug mem-usage --input "$work/vmcore.elf"
echo
startup=$(run3 vmdebug --help)
echo "load average while measuring: $(cut -d' ' -f1-3 /proc/loadavg); vmdebug process start-up (vmdebug --help): $(printf %.2f "$startup") s"
echo "input: $(du -h --apparent-size "$work/vmcore.elf" | cut -f1) ELF of a ${mib} MiB guest with ${data_mib} MiB of files, ${anon_mib} MiB anonymous, ${freed_mib} MiB freed; $(nproc) cores"
echo
echo "| Level | Codec | VmDebug | makedumpfile 1.7.2 | Time ratio | Size ratio |"
echo "| --- | --- | --- | --- | --- | --- |"
for level in 1 31; do
    for pair in "zlib:-c" "lzo:-l" "zstd:" "snappy:"; do
        codec=${pair%%:*} flag=${pair#*:}
        ours=$(run3 vmdebug convert --input "$work/vmcore.elf" --output "$work/out" --format "kdump-$codec" --dump-level $level --force)
        vmdebug convert --input "$work/vmcore.elf" --output "$work/ours" --format "kdump-$codec" --dump-level $level --force >/dev/null
        if [[ -n $flag ]]; then
            theirs=$(run3 makedumpfile $flag -d $level --message-level 0 "$work/vmcore.elf" "$work/out")
            makedumpfile $flag -d $level --message-level 0 "$work/vmcore.elf" "$work/theirs" >/dev/null 2>&1
            printf '| -d %s | %s | %.2f s, %s MB | %.2f s (`%s`), %s MB | %.2f | %.3f |\n' $level $codec "$ours" "$(mb "$work/ours")" \
                "$theirs" "$flag" "$(mb "$work/theirs")" "$(echo "$ours / $theirs" | bc -l)" \
                "$(echo "$(stat -c %s "$work/ours") / $(stat -c %s "$work/theirs")" | bc -l)"
        else
            printf '| -d %s | %s | %.2f s, %s MB | (Debian'"'"'s makedumpfile has no %s) | | |\n' $level $codec "$ours" "$(mb "$work/ours")" "$codec"
        fi
        rm -f "$work/ours" "$work/theirs"
    done
done
echo
echo "| Live dump of the running guest | Guest paused | File |"
echo "| --- | --- | --- |"
printf '| QEMU raw ELF | %.2f s | %s MB |\n' "$pause_elf" "$(echo "scale=1; $(stat -c %s "$work/vmcore.elf") / 1000000" | bc)"
printf '| QEMU kdump-zlib | %.2f s | %s MB |\n' "$pause_zlib" "$(echo "scale=1; $size_qemu_zlib / 1000000" | bc)"
printf '| VmDebug KdumpZstd -d 31 (streamed through a pipe) | %.2f s (%.2f× the raw ELF; %.2f s in all, spool %s MB) | %s MB |\n' "$pause_ours" \
    "$(echo "$pause_ours / $pause_elf" | bc -l)" "$total_ours" "$(echo "scale=1; $spool_ours / 1000000" | bc)" "$(echo "scale=1; $size_live / 1000000" | bc)"
