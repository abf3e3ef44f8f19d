#!/usr/bin/env bash
# Native libsnappy against the managed Snappier 1.3.1 (the engine's snappy codec since it passed this bench), on the pages of the same ELF vmcore
# bench/dump-compression.sh uses (a panicked test guest, 2 GiB by default, dumped over QMP). Decides whether Snappier
# may replace the native library: only within 1.2x of its time. Usage: bench/snappy-codecs.sh [GUEST_MIB] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
mib=${1:-2048}
rounds=${2:-5}
scripts/install-deps.sh >/dev/null
guest=$(scripts/build-guest.sh)
vmdebug_executable=$(scripts/publish-cli.sh)  # the NativeAOT executable users run
dotnet build bench/VmDebug.SnappyBench -c Release -nologo -v q >/dev/null
vmdebug() { "$vmdebug_executable" "$@"; }
work=$(mktemp -d /var/tmp/vmdebug-bench.XXXX)
qemu=
trap '[[ -n $qemu ]] && kill "$qemu" 2>/dev/null; rm -rf "$work"' EXIT

qemu-system-x86_64 -machine q35,accel=tcg -nodefaults -display none -nic none -m "$mib" \
    -kernel "$guest/vmlinuz" -initrd "$guest/initrd.gz" -append "console=ttyS0 panic=0 quiet vmdebug.panic_after=0" \
    -device pvpanic-pci -device vmcoreinfo -action panic=pause -qmp "unix:$work/qmp.sock,server=on,wait=off" &
qemu=$!
sleep 1
vmdebug wait-panic --socket "$work/qmp.sock" --timeout 300 >/dev/null
vmdebug dump --socket "$work/qmp.sock" --format elf --output "$work/vmcore.elf" >/dev/null
kill "$qemu"; qemu=

echo "$(nproc) cores, ELF vmcore of a ${mib} MiB guest ($(du -h --apparent-size "$work/vmcore.elf" | cut -f1))"
dotnet bench/VmDebug.SnappyBench/bin/Release/net8.0/VmDebug.SnappyBench.dll "$work/vmcore.elf" "$rounds"
