#!/usr/bin/env bash
# Builds the virtio-trace guest agent statically from Debian's kernel source (linux-source-6.1,
# tools/virtio/virtio-trace) and packs it with scripts/trace-agent/start.sh into an extra initramfs archive
# (newc, gzip) that a test concatenates after the test guest's initrd.gz; boot with
# vmdebug.exec=/vmdebug-trace/start.sh. Cached; prints the directory holding trace-agent and trace-agent.cpio.gz.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${VMDEBUG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmdebug}
source_tar=/usr/src/linux-source-6.1.tar.xz
log() { echo "build-trace-agent: $*" >&2; }
if [[ ! -r $source_tar ]]; then
    log "$source_tar is missing: apt-get install linux-source-6.1 (scripts/install-deps.sh)"
    exit 1
fi
version=$(dpkg-query -W -f='${Version}' linux-source-6.1)
dir="$cache/trace-agent-$version"
agent_stamp=$(sha256sum < "$here/trace-agent/splice-eagain.patch" | cut -c1-16)
stamp=$(cat "$here/trace-agent/start.sh" "$here/trace-agent/splice-eagain.patch" | sha256sum | cut -c1-16)
if [[ -s $dir/trace-agent.cpio.gz && $(cat "$dir/stamp" 2>/dev/null) == "$stamp" ]]; then
    echo "$dir"
    exit 0
fi
mkdir -p "$dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ ! -s $dir/trace-agent || $(cat "$dir/agent-stamp" 2>/dev/null) != "$agent_stamp" ]]; then
    log "extracting tools/virtio/virtio-trace from $source_tar"
    tar -xJf "$source_tar" -C "$work" --wildcards 'linux-source-6.1/tools/virtio/virtio-trace/*'
    src="$work/linux-source-6.1/tools/virtio/virtio-trace"
    # Linux 5.x+ makes a splice non-blocking when either end is O_NONBLOCK, and the agent's own pipe is: unpatched,
    # it exits on the first EAGAIN ("Splice_read in rw-thread") a fraction of a second into a trace.
    patch -s -d "$work/linux-source-6.1" -p1 < "$here/trace-agent/splice-eagain.patch"
    # Static: the test guest's initramfs has busybox and no C library.
    make -s -C "$src" CFLAGS='-O2 -Wall -pthread -static' trace-agent >&2
    cp "$src/trace-agent" "$dir/trace-agent.tmp" && mv "$dir/trace-agent.tmp" "$dir/trace-agent"
    echo "$agent_stamp" > "$dir/agent-stamp"
fi
root="$work/root/vmdebug-trace"
mkdir -p "$root"
cp "$dir/trace-agent" "$here/trace-agent/start.sh" "$root/"
chmod 0755 "$root/trace-agent" "$root/start.sh"
(cd "$work/root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9 > "$dir/trace-agent.cpio.gz.tmp")
mv "$dir/trace-agent.cpio.gz.tmp" "$dir/trace-agent.cpio.gz"
echo "$stamp" > "$dir/stamp"
echo "$dir"
