CMD = dict(
    name="Invoke-GuestMemoryDump",
    synopsis="Dumps a QEMU/KVM guest's memory into a file that crash and makedumpfile open as is.",
    description="""Invoke-GuestMemoryDump has QEMU write the guest's physical memory, either directly over the guest's QMP socket or through libvirt, and returns a GuestMemoryDump object describing the file.

QEMU 7.2's own output is not always readable by the peer tools: its kdump files are makedumpfile's flattened stream with a wrong phys_base and an empty kernel release, and its ELF files put the program headers where makedumpfile 1.7 does not look. Invoke-GuestMemoryDump repairs all of that before the file gets its final name, and lists every repair in the Repairs property.

The dump file is created by VmDebug itself, exclusively, with mode 0600 and owned by you (over QMP its descriptor is passed to QEMU), under a hidden temporary name in the destination directory. It is renamed to Path only once complete and repaired. On failure, Ctrl+C, a full disk or QEMU dying, nothing partial is left. An existing file is never replaced without -Force, and a symbolic link at the destination is never followed.

The guest is paused while QEMU writes its memory; QEMU resumes it afterwards only if it was running before. QEMU cannot cancel a dump it has started: after Ctrl+C it finishes writing into the discarded file and the guest stays paused until then.

Without the guest's VMCOREINFO (QEMU's vmcoreinfo device and the guest's qemu_fw_cfg module), crash and makedumpfile cannot find the kernel's symbols; the result then carries a warning naming the likely cause.""",
    sets={
        "QmpPath": ["QmpSocket", "Path", "Format", "Force"],
        "QmpLiteralPath": ["QmpSocket", "LiteralPath", "Format", "Force"],
        "DomainPath": ["Domain", "ConnectionUri", "Path", "Format", "Force"],
        "DomainLiteralPath": ["Domain", "ConnectionUri", "LiteralPath", "Format", "Force"],
    },
    required={"QmpPath": ["QmpSocket", "Path"], "QmpLiteralPath": ["QmpSocket", "LiteralPath"],
              "DomainPath": ["Domain", "Path"], "DomainLiteralPath": ["Domain", "LiteralPath"]},
    parameters=[
        dict(name="QmpSocket", type="String", required=True, pipeline="True (ByPropertyName)",
             description="Path of the guest's QMP Unix socket. QEMU serves one QMP client at a time: a socket libvirt already holds cannot be used; use -Domain for libvirt guests."),
        dict(name="Domain", type="String", required=True, pipeline="True (ByPropertyName)",
             description="Name of a libvirt domain; the dump is made through libvirt (virDomainCoreDumpWithFormat, memory only). Alias: Name."),
        dict(name="ConnectionUri", type="String", default="qemu:///system",
             description="The libvirt connection URI."),
        dict(name="Path", type="String", required=True, position="0",
             description="The dump file to create. The directory must exist."),
        dict(name="LiteralPath", type="String", required=True,
             description="Like Path, but used exactly as written: no wildcard characters are interpreted."),
        dict(name="Format", type="DumpFormat", default="Elf",
             description="Elf (every page, uncompressed), KdumpZlib, KdumpLzo, KdumpSnappy (compressed, zero pages shared; much smaller and often faster), KdumpZstd (only through Convert-Vmcore: QEMU cannot write it), or WinDmp (Windows guests only). A format this QEMU cannot write is refused with the list of those it can; WinDmp is refused up front for guests without a Windows dump header."),
        dict(name="Force", type="SwitchParameter",
             description="Replace an existing file at Path. Without it an existing file is left untouched and the command fails."),
    ],
    inputs=[("System.String", "Domain and QmpSocket can come from the pipeline by property name.")],
    outputs=[("VmDebug.GuestMemoryDump", "Path, Format, Source, Target, Domain, SizeBytes, GuestRamBytes, Duration, KernelRelease, PhysBase, Repairs and Warnings.")],
    notes="Error ids: DumpFileExists, DumpDirectoryNotFound, DumpDirectoryNotWritable, DumpFormatUnsupported, WinDmpNotAvailable, DumpAlreadyRunning, DumpFailed (QEMU's reason, e.g. no space left), DumpQemuExited, QmpGreetingInvalid (not a QMP socket).",
    examples=[
        ("Dump a panicked guest as a compressed kdump", "Invoke-GuestMemoryDump -QmpSocket /run/vm1/qmp.sock -Path /var/crash/vm1.kdump -Format KdumpZlib",
         "Returns the dump's summary; the file opens in crash (crash vmlinux /var/crash/vm1.kdump) and makedumpfile."),
        ("Dump libvirt domains from the pipeline", "'web1','web2' | ForEach-Object { Invoke-GuestMemoryDump -Domain $_ -Path \"/var/crash/$_.elf\" }",
         "Each domain is dumped through libvirt in turn."),
        ("Read the kernel log from the dump", "$d = Invoke-GuestMemoryDump -QmpSocket ./qmp.sock -Path ./vmcore -Format KdumpZlib; makedumpfile --dump-dmesg $d.Path dmesg.txt",
         "makedumpfile needs only the VMCOREINFO that the repaired dump carries."),
    ],
    links=["Wait-GuestPanic", "Invoke-QmpCommand", "about_VmDebug"],
)
