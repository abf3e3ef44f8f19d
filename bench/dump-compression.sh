#!/usr/bin/env bash
# Compresses the same ELF vmcore (a panicked 2 GiB test guest, dumped over QMP) with VmDebug and with makedumpfile,
# and prints time and size ratios. Median of 3 runs each. Usage: bench/dump-compression.sh [GUEST_MIB]
set -euo pipefail
cd "$(dirname "$0")/.."
mib=${1:-2048}
scripts/install-deps.sh >/dev/null
guest=$(scripts/build-guest.sh)
vmdebug_executable=$(scripts/publish-cli.sh)  # the NativeAOT executable users run
vmdebug() { "$vmdebug_executable" "$@"; }
work=$(mktemp -d /var/tmp/vmdebug-bench.XXXX)
trap 'kill "$qemu" 2>/dev/null || true; rm -rf "$work"' EXIT

qemu-system-x86_64 -machine q35,accel=tcg -nodefaults -display none -nic none -m "$mib" \
    -kernel "$guest/vmlinuz" -initrd "$guest/initrd.gz" -append "console=ttyS0 panic=0 quiet vmdebug.panic_after=0" \
    -device pvpanic-pci -device vmcoreinfo -action panic=pause -qmp "unix:$work/qmp.sock,server=on,wait=off" &
qemu=$!
sleep 1
vmdebug wait-panic --socket "$work/qmp.sock" --timeout 120 >/dev/null
vmdebug dump --socket "$work/qmp.sock" --format elf --output "$work/vmcore.elf" >/dev/null
kill "$qemu"

median() { sort -n | sed -n 2p; }
run3() { # command... ; prints the median wall time in seconds
    for _ in 1 2 3; do
        rm -f "$work/out"
        local start end
        start=$(date +%s.%N); "$@" >/dev/null 2>&1; end=$(date +%s.%N)
        echo "$end - $start" | bc
    done | median
}

echo "input: $(du -h --apparent-size "$work/vmcore.elf" | cut -f1) ELF vmcore of a ${mib} MiB guest, $(nproc) cores"
printf '%-6s %12s %12s %10s %12s %12s %10s\n' codec vmdebug_s makedump_s time_ratio vmdebug_MB makedump_MB size_ratio
for pair in "zlib:-c" "lzo:-l"; do
    codec=${pair%%:*} flag=${pair#*:}
    ours=$(run3 vmdebug convert --input "$work/vmcore.elf" --output "$work/out" --format "kdump-$codec")
    vmdebug convert --input "$work/vmcore.elf" --output "$work/ours" --format "kdump-$codec" --force >/dev/null
    theirs=$(run3 makedumpfile $flag -d 1 --message-level 0 "$work/vmcore.elf" "$work/out")
    makedumpfile $flag -d 1 --message-level 0 "$work/vmcore.elf" "$work/theirs" >/dev/null 2>&1
    o=$(stat -c %s "$work/ours"); t=$(stat -c %s "$work/theirs")
    printf '%-6s %12.2f %12.2f %10.2f %12.1f %12.1f %10.2f\n' "$codec" "$ours" "$theirs" "$(echo "$ours / $theirs" | bc -l)" \
        "$(echo "$o / 1000000" | bc -l)" "$(echo "$t / 1000000" | bc -l)" "$(echo "$o / $t" | bc -l)"
    rm -f "$work/ours" "$work/theirs"
done
echo "time_ratio < 1: VmDebug is faster; size_ratio > 1: VmDebug's file is larger."
