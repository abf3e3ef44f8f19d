CMD = dict(
    name="Get-QemuCoreDump",
    synopsis="Lists QEMU process cores, in files and in systemd-coredump, with what each holds.",
    description="""Get-QemuCoreDump finds the cores QEMU processes left when they crashed or were aborted: plain core files under the given paths (the kernel's core_pattern, libvirt's working directory /, a copy), and the QEMU entries of systemd-coredump when coredumpctl is installed. Files that are not ELF cores of qemu-system-* or qemu-kvm are skipped.

For each core it reports the PID, the time, the signal, QEMU's full command line (recovered from the dumped stack, not the 80 characters the kernel keeps), the machine type, the guest RAM size, and whether the core includes guest RAM: only QEMU running with dump-guest-core=on (Enable-QemuCoreDump -IncludeGuestMemory) writes it. Problem says why a core cannot be used as is (truncated, no guest RAM, compressed by systemd-coredump, a layout that needs -GuestMemoryLayout).

Objects pipe into Invoke-GuestMemoryDump: their CoreFile property binds to its -CoreFile.""",
    sets={
        "Path": ["Path", "Recurse", "NoSystemdCoredump"],
        "LiteralPath": ["LiteralPath", "Recurse", "NoSystemdCoredump"],
    },
    required={"LiteralPath": ["LiteralPath"]},
    parameters=[
        dict(name="Path", type="String[]", position="0", pipeline="True (ByValue)",
             description="Core files or directories to examine; wildcards are expanded. Without paths only systemd-coredump is asked."),
        dict(name="LiteralPath", type="String[]", required=True, pipeline="True (ByPropertyName)",
             description="Like Path, used exactly as written. Alias: PSPath, so Get-ChildItem output binds."),
        dict(name="Recurse", type="SwitchParameter",
             description="Also examine the subdirectories of the given directories (symbolic links are not followed)."),
        dict(name="NoSystemdCoredump", type="SwitchParameter",
             description="Do not list systemd-coredump's entries."),
    ],
    inputs=[("System.String", "Paths by value; LiteralPath (PSPath) by property name.")],
    outputs=[("VmDebug.QemuProcessCore", "Path, CoreFile, Pid, Time, Signal, CommandLine, MachineType, GuestRamBytes, IncludesGuestRam, Source (File or SystemdCoredump) and Problem.")],
    notes="Error ids: CorePathNotFound, CoredumpctlFailed, CoredumpctlOutputInvalid. systemd-coredump stores cores compressed: extract one with coredumpctl dump PID --output FILE before extracting the guest.",
    examples=[
        ("List the QEMU cores in libvirt's working directory", "Get-QemuCoreDump -Path /",
         "Under libvirt, QEMU's working directory is /, where a core_pattern of 'core' puts its cores."),
        ("Turn every usable core into a vmcore", "Get-QemuCoreDump -Path /var/crash -Recurse | Where-Object { $_.IncludesGuestRam } | ForEach-Object { $_ | Invoke-GuestMemoryDump -Path \"/var/crash/guest-$($_.Pid).kdump\" -Format KdumpZlib }",
         "Each core's CoreFile binds to -CoreFile."),
    ],
    links=["Invoke-GuestMemoryDump", "Enable-QemuCoreDump"],
)
