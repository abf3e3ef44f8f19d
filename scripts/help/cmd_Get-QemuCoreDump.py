CMD = dict(
    name="Get-QemuCoreDump",
    synopsis="Lists QEMU process cores, in files and in systemd-coredump's store, with what each holds.",
    description="""Get-QemuCoreDump finds the cores QEMU processes left when they crashed or were aborted: plain core files under the given paths (the kernel's core_pattern, libvirt's working directory /, a copy), and the QEMU cores in systemd-coredump's store, /var/lib/systemd/coredump. The store is read by systemd's file names (core.COMM.UID.BOOTID.PID.USEC, with .zst, .lz4 or .xz when compressed), so coredumpctl and the journal are not needed. In a directory, files that are not cores of qemu-system-* or qemu-kvm are passed over; a file named on its own that is not one is an error, and a guest vmcore is named as such (it needs no extraction: Convert-Vmcore rewrites it). A path that does not exist is an error of its own; the other paths are still listed.

For each core it reports the PID, the time, the signal, QEMU's full command line (recovered from the dumped stack, not the 80 characters the kernel keeps), the machine type, the guest RAM size, and whether the core includes guest RAM: only QEMU running with dump-guest-core=on (Enable-QemuCoreDump -IncludeGuestMemory) writes it. Store entries add the UID, the boot id and the compression. A compressed core is judged from its first few hundred kilobytes (ELF headers and notes) without decompressing it: its command line is then the first 80 characters and its RAM size unknown. Problem says why a core cannot be used as is (truncated, no guest RAM, a layout that needs -GuestMemoryLayout).

Objects pipe into Invoke-GuestMemoryDump: their CoreFile property binds to its -CoreFile.""",
    sets={
        "Path": ["Path", "Recurse", "NoSystemdCoredump"],
        "LiteralPath": ["LiteralPath", "Recurse", "NoSystemdCoredump"],
    },
    required={"LiteralPath": ["LiteralPath"]},
    parameters=[
        dict(name="Path", type="String[]", position="0", pipeline="True (ByValue)",
             description="Core files or directories to examine; wildcards are expanded. Without paths only systemd-coredump's store is listed."),
        dict(name="LiteralPath", type="String[]", required=True, pipeline="True (ByPropertyName)",
             description="Like Path, used exactly as written. Alias: PSPath, so Get-ChildItem output binds."),
        dict(name="Recurse", type="SwitchParameter",
             description="Also examine the subdirectories of the given directories (symbolic links are not followed)."),
        dict(name="NoSystemdCoredump", type="SwitchParameter",
             description="Do not list the cores in systemd-coredump's store (/var/lib/systemd/coredump)."),
    ],
    inputs=[("System.String", "Paths by value; LiteralPath (PSPath) by property name.")],
    outputs=[("VmDebug.QemuProcessCore", "Path, CoreFile, Pid, Uid, BootId, Compression, Time, Signal, CommandLine, MachineType, GuestRamBytes, IncludesGuestRam, Source (File or SystemdCoredump) and Problem.")],
    notes="Error ids (non-terminating, one per path): CorePathNotFound, ProcessCoreNotACore, ProcessCoreIsVmcore, CompressedCoreCorrupt, CompressionLibraryMissing (libzstd1 or liblzma5). Compressed cores go to Invoke-GuestMemoryDump -CoreFile as they are: no coredumpctl dump first.",
    examples=[
        ("List the QEMU cores in libvirt's working directory", "Get-QemuCoreDump -Path /",
         "Under libvirt, QEMU's working directory is /, where a core_pattern of 'core' puts its cores."),
        ("Turn every usable core into a vmcore", "Get-QemuCoreDump -Path /var/crash -Recurse | Where-Object { $_.IncludesGuestRam } | ForEach-Object { $_ | Invoke-GuestMemoryDump -Path \"/var/crash/guest-$($_.Pid).kdump\" -Format KdumpZlib }",
         "Each core's CoreFile binds to -CoreFile."),
        ("Extract the newest guest from systemd-coredump's store", "Get-QemuCoreDump | Where-Object IncludesGuestRam | Select-Object -Last 1 | Invoke-GuestMemoryDump -Path ./guest.vmcore",
         "The .zst (or .lz4, .xz) core is read as it is, streaming, never decompressed to disk."),
    ],
    links=["Invoke-GuestMemoryDump", "Enable-QemuCoreDump", "Convert-Vmcore"],
)
