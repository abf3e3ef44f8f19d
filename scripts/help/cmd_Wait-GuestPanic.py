CMD = dict(
    name="Wait-GuestPanic",
    synopsis="Waits until a QEMU guest panics and returns QEMU's panic event.",
    description="""Wait-GuestPanic connects to a guest's QMP socket and waits for the GUEST_PANICKED or GUEST_CRASHLOADED event that QEMU raises when the guest's pvpanic device fires. It returns a GuestPanicEvent with the kind, QEMU's timestamp, the action QEMU took (pause, poweroff, run) and any panic information the guest passed.

If the guest has already panicked when Wait-GuestPanic connects, it returns at once, with AlreadyPanicked set.

The guest needs a pvpanic device (-device pvpanic-pci, or libvirt's <panic model='isa'/>) and its kernel's pvpanic driver. QEMU's default panic action is poweroff, so the guest is gone before anyone can dump it: start QEMU with -action panic=pause (libvirt passes -no-shutdown) to keep the panicked guest for Invoke-GuestMemoryDump.""",
    sets={"Default": ["QmpSocket", "Timeout"]},
    required={"Default": ["QmpSocket"]},
    parameters=[
        dict(name="QmpSocket", type="String", required=True, position="0", pipeline="True (ByPropertyName)",
             description="Path of the guest's QMP Unix socket."),
        dict(name="Timeout", type="Int32", default="0",
             description="Seconds to wait. 0 waits until the guest panics or you press Ctrl+C."),
    ],
    inputs=[("System.String", "QmpSocket can come from the pipeline by property name.")],
    outputs=[("VmDebug.GuestPanicEvent", "The panic: Kind, Time, Action, Info, QmpSocket, Waited, AlreadyPanicked.")],
    examples=[
        ("Wait up to ten minutes for a panic", "Wait-GuestPanic -QmpSocket /run/vm1/qmp.sock -Timeout 600",
         "Fails with error GuestPanicWaitTimeout if the guest does not panic in time, and with GuestPanicQemuExited if QEMU goes away first."),
    ],
    links=["Invoke-QmpCommand", "about_VmDebug"],
)
