_common = [
    dict(name="ConfigPath", type="String", default="/etc/libvirt/qemu.conf",
         description="libvirt's qemu.conf. It is edited in place: only the settings asked for change, a setting shown only as a commented default is added right below that comment, and the write is atomic (temporary file, fsync, rename) with a timestamped backup beside it and the file's owner and mode kept. A malformed file is refused with its line number and left untouched."),
    dict(name="Domain", type="String", required=True, pipeline="True (ByPropertyName)",
         description="A libvirt domain whose persistent definition gets <memory dumpCore='on'> (Enable) or loses the attribute (Disable). A running domain gets it at its next boot. Alias: Name. Tab completion lists the domains of -ConnectionUri."),
    dict(name="XmlPath", type="String", required=True,
         description="A domain XML file to edit offline instead of a libvirt domain; libvirt is not contacted for it. The file is replaced atomically with a backup, and every unrelated element, attribute and comment survives."),
    dict(name="ConnectionUri", type="String", default="qemu:///system",
         description="The libvirt connection URI used for -Domain, for the active-job check and to find the daemon to restart (the process listening on the URI's socket)."),
    dict(name="RestartDaemon", type="SwitchParameter",
         description="Restart the libvirt daemon (libvirtd, or virtqemud on modular hosts) so that new guests get the settings: through systemctl under systemd, the init script under SysV, or, for a daemon started by hand, SIGTERM and the same command line again (in the daemon's own mount namespace). Refused while any domain has an active job (dump, migration, block copy, save), naming the domain and the job, unless -Force is given."),
    dict(name="Force", type="SwitchParameter",
         description="Restart the daemon even while domains have active jobs; libvirt may abort them. The result then carries a warning naming them."),
]

CMD = dict(
    name="Enable-QemuCoreDump",
    synopsis="Lets QEMU processes dump core, optionally with guest memory, by editing libvirt's qemu.conf.",
    description="""Enable-QemuCoreDump sets max_core (default unlimited) and, with -IncludeGuestMemory, dump_guest_core = 1 in libvirt's qemu.conf, so that a crashing QEMU process leaves a core with the guest's RAM in it. With -Domain or -XmlPath it also sets <memory dumpCore='on'> on one domain.

libvirt reads qemu.conf only when its daemon starts: use -RestartDaemon, or restart it yourself. The returned QemuCoreDumpSetting shows the effective values, whether a restart is still needed, where cores go (kernel.core_pattern, systemd-coredump and its size caps compared with the largest guest's RAM) and warnings.

-WhatIf prints the exact unified diff of qemu.conf (and of the domain XML) and the planned restart, and changes nothing. Running the command twice changes nothing the second time.""",
    sets={
        "Host": ["ConfigPath", "MaxCoreSize", "IncludeGuestMemory", "ConnectionUri", "RestartDaemon", "Force"],
        "Domain": ["ConfigPath", "MaxCoreSize", "IncludeGuestMemory", "Domain", "ConnectionUri", "RestartDaemon", "Force"],
        "XmlPath": ["ConfigPath", "MaxCoreSize", "IncludeGuestMemory", "XmlPath", "ConnectionUri", "RestartDaemon", "Force"],
    },
    required={"Domain": ["Domain"], "XmlPath": ["XmlPath"]},
    parameters=[
        dict(name="MaxCoreSize", type="String", default="unlimited",
             description="max_core: 'unlimited', or a size such as 8GiB, 512M or a byte count. A core needs the guest's RAM plus about 1 GiB; a smaller limit is warned about."),
        dict(name="IncludeGuestMemory", type="SwitchParameter",
             description="Set dump_guest_core = 1: QEMU cores include guest RAM (QEMU runs with dump-guest-core=on). Without it, dump_guest_core is left as it is."),
    ] + _common,
    inputs=[("System.String", "Domain can come from the pipeline by property name.")],
    outputs=[("VmDebug.QemuCoreDumpSetting", "ConfigPath, MaxCore, IncludeGuestMemory, AutoDumpPath, User, RestartNeeded, Daemon, CorePattern, HandledBySystemdCoredump, SystemdCoredumpLimits, Warnings, Changes, Diff, BackupPath.")],
    notes="Error ids: LibvirtConfSyntax (with the line), DaemonRestartRefusedActiveJobs, LibvirtDaemonRestartFailed, LibvirtDaemonRestartTimeout, LibvirtDaemonNotLocal, DomainXmlNotFound, LibvirtDomainNotFound.",
    examples=[
        ("See what would change", "Enable-QemuCoreDump -IncludeGuestMemory -WhatIf", "Prints the unified diff of /etc/libvirt/qemu.conf; nothing is written."),
        ("Enable and restart the daemon", "Enable-QemuCoreDump -IncludeGuestMemory -RestartDaemon", "Refused while a domain has an active job; add -Force to restart anyway."),
        ("One domain only", "Enable-QemuCoreDump -Domain web1", "Sets max_core and <memory dumpCore='on'> on web1's persistent definition."),
    ],
    links=["Disable-QemuCoreDump", "Get-QemuCoreDumpSetting", "Set-GuestPanicDevice"],
)
