CMD = dict(
    name="Invoke-GuestMemoryDump",
    synopsis="Dumps a QEMU/KVM guest's memory into a file that crash and makedumpfile open as is.",
    description="""Invoke-GuestMemoryDump has QEMU write the guest's physical memory, either directly over the guest's QMP socket or through libvirt, and returns a GuestMemoryDump object describing the file.

QEMU 7.2's own output is not always readable by the peer tools: its kdump files are makedumpfile's flattened stream with a wrong phys_base and an empty kernel release, and its ELF files put the program headers where makedumpfile 1.7 does not look. Invoke-GuestMemoryDump repairs all of that before the file gets its final name, and lists every repair in the Repairs property.

The dump file is created by VmDebug itself, exclusively, with mode 0600 and owned by you (over QMP its descriptor is passed to QEMU), under a hidden temporary name in the destination directory. It is renamed to Path only once complete and repaired. On failure, Ctrl+C, a full disk or QEMU dying, nothing partial is left. An existing file is never replaced without -Force, and a symbolic link at the destination is never followed.

The guest is paused while QEMU writes its memory; QEMU resumes it afterwards only if it was running before. QEMU cannot cancel a dump it has started: after Ctrl+C it finishes writing into the discarded file and the guest stays paused until then.

With -CoreFile, the memory comes from a QEMU process core instead of a running QEMU: a QEMU that crashed or was killed with SIGABRT while running with -machine dump-guest-core=on (qemu.conf dump_guest_core = 1; see Enable-QemuCoreDump -IncludeGuestMemory). VmDebug reads QEMU's full command line from the dumped stack, places the RAM mapping of exactly the configured size in guest-physical space by the rules of the pc (i440fx) and q35 machine types, finds and validates the guest kernel's VMCOREINFO in guest RAM, and writes an Elf or Kdump vmcore, without gdb or QEMU debug symbols. Besides guest RAM it places the blocks QEMU's own dump holds: the BIOS ROM below 4 GiB and the video RAM of a VGA, secondary-vga, bochs-display or virtio-vga device at the BAR the guest programmed; blocks it cannot place with certainty are left out and named in Warnings. Holes of the sparse core are never read. A core compressed whole (.zst, .lz4 frames, .xz, as systemd-coredump stores them) is read as it is, streaming in two sequential passes, never decompressed to disk, in bounded memory. Where the command line does not settle the layout (another machine type, several mappings of the RAM size, extra memory devices) the command stops and asks for -GuestMemoryLayout rather than guessing.

Without the guest's VMCOREINFO (QEMU's vmcoreinfo device and the guest's qemu_fw_cfg module), crash and makedumpfile cannot find the kernel's symbols; the result then carries a warning naming the likely cause.""",
    sets={
        "QmpPath": ["QmpSocket", "Path", "Format", "Force"],
        "QmpLiteralPath": ["QmpSocket", "LiteralPath", "Format", "Force"],
        "DomainPath": ["Domain", "ConnectionUri", "Path", "Format", "Force"],
        "DomainLiteralPath": ["Domain", "ConnectionUri", "LiteralPath", "Format", "Force"],
        "CoreFilePath": ["CoreFile", "Path", "Format", "GuestMemoryLayout", "Force"],
        "CoreFileLiteralPath": ["CoreFile", "LiteralPath", "Format", "GuestMemoryLayout", "Force"],
    },
    required={"QmpPath": ["QmpSocket", "Path"], "QmpLiteralPath": ["QmpSocket", "LiteralPath"],
              "DomainPath": ["Domain", "Path"], "DomainLiteralPath": ["Domain", "LiteralPath"],
              "CoreFilePath": ["CoreFile", "Path"], "CoreFileLiteralPath": ["CoreFile", "LiteralPath"]},
    parameters=[
        dict(name="QmpSocket", type="String", required=True, pipeline="True (ByPropertyName)",
             description="Path of the guest's QMP Unix socket. QEMU serves one QMP client at a time: a socket libvirt already holds cannot be used; use -Domain for libvirt guests."),
        dict(name="Domain", type="String", required=True, pipeline="True (ByPropertyName)",
             description="Name of a libvirt domain; the dump is made through libvirt (virDomainCoreDumpWithFormat, memory only). Alias: Name."),
        dict(name="CoreFile", type="String", required=True, pipeline="True (ByPropertyName)",
             description="A QEMU process core (uncompressed ELF core of qemu-system-x86_64 or qemu-kvm) that includes guest RAM. Binds from the CoreFile property of Get-QemuCoreDump's output. Cores stored compressed by systemd-coredump must be extracted first (coredumpctl dump PID --output FILE)."),
        dict(name="GuestMemoryLayout", type="String",
             description="With -CoreFile only: the guest-physical layout when QEMU's command line does not settle it. 'q35' or 'pc' applies that machine type's rules; explicit ranges 'START-END@RAMOFFSET' (END inclusive, comma separated) place parts of the RAM block, e.g. '0x0-0x7fffffff@0,0x100000000-0x13fffffff@0x80000000'. Append ',ram=0xADDRESS' to name QEMU's RAM mapping (its host virtual address, as the error lists them) when several mappings have the RAM size."),
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
    inputs=[("System.String", "Domain, QmpSocket and CoreFile can come from the pipeline by property name."),
            ("VmDebug.QemuProcessCore", "Get-QemuCoreDump's output binds to -CoreFile.")],
    outputs=[("VmDebug.GuestMemoryDump", "Path, Format, Source, Target, Domain, SizeBytes, GuestRamBytes, Duration, KernelRelease, PhysBase, Repairs and Warnings.")],
    notes="Error ids: DumpFileExists, DumpDirectoryNotFound, DumpDirectoryNotWritable, DumpFormatUnsupported, WinDmpNotAvailable, DumpAlreadyRunning, DumpFailed (QEMU's reason, e.g. no space left), DumpQemuExited, QmpGreetingInvalid (not a QMP socket). With -CoreFile: ProcessCoreNoGuestRam (dump-guest-core=off), ProcessCoreTruncated, ProcessCoreNotQemu, ProcessCoreNotACore, ProcessCoreIsVmcore (a vmcore given: use Convert-Vmcore), CompressedCoreCorrupt, CompressionLibraryMissing, ProcessCoreMachineUnknown, ProcessCoreLayoutAmbiguous, ProcessCoreLayoutInvalid, ProcessCoreCommandLineUnreadable.",
    examples=[
        ("Dump a panicked guest as a compressed kdump", "Invoke-GuestMemoryDump -QmpSocket /run/vm1/qmp.sock -Path /var/crash/vm1.kdump -Format KdumpZlib",
         "Returns the dump's summary; the file opens in crash (crash vmlinux /var/crash/vm1.kdump) and makedumpfile."),
        ("Dump libvirt domains from the pipeline", "'web1','web2' | ForEach-Object { Invoke-GuestMemoryDump -Domain $_ -Path \"/var/crash/$_.elf\" }",
         "Each domain is dumped through libvirt in turn."),
        ("Read the kernel log from the dump", "$d = Invoke-GuestMemoryDump -QmpSocket ./qmp.sock -Path ./vmcore -Format KdumpZlib; makedumpfile --dump-dmesg $d.Path dmesg.txt",
         "makedumpfile needs only the VMCOREINFO that the repaired dump carries."),
        ("Extract the guest from QEMU's own core", "Get-QemuCoreDump -Path /var/lib/libvirt/qemu | Where-Object IncludesGuestRam | Select-Object -Last 1 | Invoke-GuestMemoryDump -Path ./vm1.kdump -Format KdumpZlib",
         "The newest QEMU process core that holds guest RAM becomes a compressed kdump; crash and makedumpfile open it."),
    ],
    links=["Get-QemuCoreDump", "Wait-GuestPanic", "Invoke-QmpCommand", "about_VmDebug"],
)
