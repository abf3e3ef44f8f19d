#!/bin/sh
# Guest side of virtio-trace, started by the test guest's /init through vmdebug.exec=/vmdebug-trace/start.sh.
# Mounts debugfs (the vendored 6.1 agent reads /sys/kernel/debug/tracing/per_cpu/cpuN/trace_pipe_raw), enables the
# sched events, sends the metadata trace-cmd needs to the host (port trace-metadata, when present), keeps the
# scheduler busy so pages fill, and runs trace-agent, which waits for "1\n" on agent-ctl-path.
tracing=/sys/kernel/debug/tracing
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -d $tracing/events ] || mount -t tracefs tracefs $tracing
# Small per-CPU buffers, and wake the agent's splice once 1 % is used: the default (50 % of 1.4 MiB) would hold
# back every page for the whole of a short collection.
echo 256 > $tracing/buffer_size_kb
echo 1 > $tracing/buffer_percent
echo 1 > $tracing/events/sched/enable
echo 1 > $tracing/tracing_on

if [ -e /dev/virtio-ports/trace-metadata ]; then
    # Copied before the agent starts (tracefs files report size 0, so tar needs copies), sent in the background: the
    # port blocks until the host reads it.
    meta=/tmp/vmdebug-trace-metadata
    mkdir -p $meta/events
    for f in header_page header_event; do cat $tracing/events/$f > $meta/events/$f; done
    for f in printk_formats saved_cmdlines; do cat $tracing/$f > $meta/$f; done
    for system in ftrace sched; do
        for event in $tracing/events/$system/*/; do
            [ -e "$event/format" ] || continue
            name=$(basename "$event")
            mkdir -p "$meta/events/$system/$name"
            cat "$event/format" > "$meta/events/$system/$name/format"
        done
    done
    cat /proc/kallsyms > $meta/kallsyms
    tar -c -C $meta . > /dev/virtio-ports/trace-metadata &
fi

# A scheduler workload: short sleeps switch tasks on every CPU.
for cpu in $(seq 1 "$(grep -c ^processor /proc/cpuinfo)"); do
    ( while :; do usleep 2000; done ) &
done

# On the console itself, whatever the loglevel: tests wait for this line before the start order.
echo "vmdebug: trace-agent starting" > /dev/console
exec /vmdebug-trace/trace-agent
