CMD = dict(
    name="Invoke-QmpCommand",
    synopsis="Runs one QMP command on a QEMU guest's monitor socket and returns QEMU's reply as objects.",
    description="""Invoke-QmpCommand connects to a QEMU QMP socket, reads QEMU's greeting, negotiates capabilities and runs one command. The reply's "return" member comes back as ordered dictionaries and arrays that PowerShell displays and navigates with dot notation, and also as the raw JSON in ReturnJson.

QMP errors become ErrorRecords whose exception carries QEMU's error class and description and the command that was sent. A socket that is not a QEMU monitor gives a clear error instead of hanging.

Commands sent this way bypass libvirt. On a libvirt-managed guest, prefer libvirt's own interfaces; libvirt marks a domain as tainted when its monitor is used directly.""",
    sets={"Default": ["QmpSocket", "Command", "Arguments", "Timeout"]},
    required={"Default": ["QmpSocket", "Command"]},
    parameters=[
        dict(name="QmpSocket", type="String", required=True, position="0", pipeline="True (ByPropertyName)",
             description="Path of the guest's QMP Unix socket, as given to QEMU with -qmp unix:PATH,server=on."),
        dict(name="Command", type="String", required=True, position="1",
             description="The QMP command to run, for example query-status or query-dump-guest-memory-capability."),
        dict(name="Arguments", type="Hashtable", position="2",
             description="The command's arguments. Nested hashtables and arrays become JSON objects and arrays."),
        dict(name="Timeout", type="Int32", default="30",
             description="Seconds to wait for QEMU's reply before the command fails with a timeout error."),
    ],
    inputs=[("System.String", "QmpSocket can come from the pipeline by property name.")],
    outputs=[("VmDebug.QmpResponse", "The command, the socket, QEMU's return value as objects and as JSON, and how long the command took.")],
    examples=[
        ("Ask a guest for its run state", "Invoke-QmpCommand -QmpSocket /run/vm1/qmp.sock -Command query-status",
         "Returns status (running, paused, guest-panicked...) and the running flag."),
        ("List the dump formats this QEMU can write", "(Invoke-QmpCommand /run/vm1/qmp.sock query-dump-guest-memory-capability).Return.formats",
         "Debian's QEMU 7.2 answers elf, kdump-zlib and win-dmp."),
        ("Pause a guest, with confirmation", "Invoke-QmpCommand /run/vm1/qmp.sock stop -Confirm",
         "Invoke-QmpCommand supports -WhatIf and -Confirm because a raw command can change the guest's state."),
    ],
    links=["Wait-GuestPanic", "about_VmDebug"],
)
