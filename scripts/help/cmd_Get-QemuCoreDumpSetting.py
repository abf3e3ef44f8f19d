CMD = dict(
    name="Get-QemuCoreDumpSetting",
    synopsis="Shows the effective QEMU core-dump settings of the host and where cores would go.",
    description="""Get-QemuCoreDumpSetting reads libvirt's qemu.conf as libvirt's qemu driver does (max_core, dump_guest_core, auto_dump_path, auto_dump_bypass_cache, user, group; defaults resolved) and reports where process cores go: kernel.core_pattern, whether systemd-coredump takes them and its size caps (ProcessSizeMax, ExternalSizeMax, MaxUse) compared with the largest guest's RAM.

RestartNeeded is true when the running daemon started before qemu.conf last changed. Settings libvirt would reject, and duplicate keys, are reported as warnings.""",
    sets={"Default": ["ConfigPath", "ConnectionUri"]},
    required={},
    parameters=[
        dict(name="ConfigPath", type="String", default="/etc/libvirt/qemu.conf", position="0",
             description="libvirt's qemu.conf."),
        dict(name="ConnectionUri", type="String", default="qemu:///system",
             description="The libvirt daemon asked (read-only) for its guests' RAM and checked for a pending restart. Without it, the system daemon is asked only if its socket exists."),
    ],
    outputs=[("VmDebug.QemuCoreDumpSetting", "ConfigPath, MaxCore, IncludeGuestMemory, AutoDumpPath, User, RestartNeeded, Daemon, CorePattern, HandledBySystemdCoredump, SystemdCoredumpLimits, LargestGuestRamBytes, Warnings.")],
    notes="Error ids: LibvirtConfSyntax (with the line), LibvirtConfNotFound.",
    examples=[
        ("Check the host", "Get-QemuCoreDumpSetting | Format-List", "Shows whether QEMU cores are enabled, whether they include guest RAM, and what would truncate them."),
    ],
    links=["Enable-QemuCoreDump", "Disable-QemuCoreDump"],
)
