# Shared by the bench scripts (source it after `set -euo pipefail`): the test guest, the built CLI, a work directory
# and a cleanup that kills the guest QEMU the script started and removes the work directory, whatever way it exits.
bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Sets guest (the test guest's directory), vmdebug (the NativeAOT executable users run, as an array), work (an empty directory under
# BENCH_DIR, default /var/tmp) and qemu_pid (empty: the script sets it to the QEMU it starts).
bench_setup() {
    guest=$("$bench_root/scripts/build-guest.sh")
    vmdebug=("$("$bench_root/scripts/publish-cli.sh")")
    work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/vmdebug-bench-XXXXXX")
    qemu_pid=
    trap bench_cleanup EXIT
}

bench_cleanup() {
    if [[ -n ${qemu_pid:-} ]]; then kill -9 "$qemu_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}

# bench_wait_console TEXT SECONDS: waits until the guest's serial log ($work/console.log) shows TEXT; fails after SECONDS.
bench_wait_console() {
    local text=$1 tries=$(( $2 * 5 ))
    for _ in $(seq "$tries"); do grep -q "$text" "$work/console.log" 2>/dev/null && return 0; sleep 0.2; done
    echo "the guest never printed '$text' within $2 s" >&2
    exit 1
}

# bench_process_core MEMORY_MIB [QEMU OPTIONS...]: boots the test guest with guest RAM in its core, waits for its log,
# aborts QEMU so it dumps core into $work and sets core to that file's path.
bench_process_core() {
    local memory=$1; shift
    (cd "$work" && ulimit -c unlimited && exec qemu-system-x86_64 "$@" -display none -nic none -no-reboot -m "${memory}M" \
        -kernel "$guest/vmlinuz" -initrd "$guest/initrd.gz" -serial "file:$work/console.log" -device vmcoreinfo \
        -machine q35,accel=tcg,dump-guest-core=on -append 'console=ttyS0 panic=0 quiet loglevel=6 vmdebug.markers=3' \
        </dev/null 2>"$work/qemu.stderr") &
    qemu_pid=$!
    bench_wait_console 'vmdebug marker 3' 120
    kill -ABRT "$qemu_pid"; wait "$qemu_pid" 2>/dev/null || true; qemu_pid=
    core=$(ls "$work"/core* | head -n1)
}
