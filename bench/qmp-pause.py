#!/usr/bin/env python3
"""Usage: qmp-pause.py SOCKET FORMAT FILE. Has QEMU write dump-guest-memory (paging off, synchronous) to FILE and
prints how long the guest was paused: QEMU's RESUME event timestamp minus its STOP one, the span VmDebug reports as
GuestPaused, so both sides are measured on QEMU's own clock without any process start-up."""
import json
import socket
import sys

sock_path, fmt, out = sys.argv[1:4]
conn = socket.socket(socket.AF_UNIX)
conn.connect(sock_path)
conn.settimeout(600)
stream = conn.makefile("rwb", buffering=0)
stamps = {}


def read():
    message = json.loads(stream.readline())
    if "event" in message:
        stamps[message["event"]] = message["timestamp"]["seconds"] + message["timestamp"]["microseconds"] / 1e6
    return message


def execute(name, arguments=None):
    stream.write(json.dumps({"execute": name, **({"arguments": arguments} if arguments else {})}).encode() + b"\n")
    while True:
        message = read()
        if "error" in message:
            sys.exit(f"{name}: {message['error']['desc']}")
        if "return" in message:
            return message["return"]


read()  # greeting
execute("qmp_capabilities")
execute("dump-guest-memory", {"paging": False, "protocol": "file:" + out, "format": fmt})
conn.settimeout(10)
while "RESUME" not in stamps:
    read()
print("%.3f" % (stamps["RESUME"] - stamps["STOP"]))
