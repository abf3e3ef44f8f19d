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
    name="Disable-QemuCoreDump",
    synopsis="Returns QEMU core dumps to libvirt's defaults (no cores, guest RAM excluded).",
    description="""Disable-QemuCoreDump removes max_core and dump_guest_core from libvirt's qemu.conf, so libvirt's defaults apply again: QEMU processes write no cores, and guest RAM would be excluded from them. A line Enable-QemuCoreDump added disappears, so the file is byte for byte as it was before. With -Domain or -XmlPath it also removes <memory dumpCore> from one domain.

libvirt reads qemu.conf only when its daemon starts: use -RestartDaemon, or restart it yourself. -WhatIf prints the exact diff and changes nothing.""",
    sets={
        "Host": ["ConfigPath", "ConnectionUri", "RestartDaemon", "Force"],
        "Domain": ["ConfigPath", "Domain", "ConnectionUri", "RestartDaemon", "Force"],
        "XmlPath": ["ConfigPath", "XmlPath", "ConnectionUri", "RestartDaemon", "Force"],
    },
    required={"Domain": ["Domain"], "XmlPath": ["XmlPath"]},
    parameters=_common,
    inputs=[("System.String", "Domain can come from the pipeline by property name.")],
    outputs=[("VmDebug.QemuCoreDumpSetting", "The settings after the change, with the diff, the backup path and warnings.")],
    notes="Error ids: LibvirtConfSyntax, DaemonRestartRefusedActiveJobs, LibvirtDaemonRestartFailed, LibvirtDaemonRestartTimeout.",
    examples=[
        ("Undo Enable-QemuCoreDump", "Disable-QemuCoreDump -RestartDaemon", "qemu.conf is as before Enable-QemuCoreDump, and the daemon runs with it."),
    ],
    links=["Enable-QemuCoreDump", "Get-QemuCoreDumpSetting"],
)
