_source = [
    dict(name="Domain", type="String", required=True, position="0", pipeline="True (ByPropertyName)",
         description="A libvirt domain. Its persistent definition is read and redefined; a running domain gets the change at its next boot, and the result says so. Alias: Name. Tab completion lists the domains of -ConnectionUri."),
    dict(name="XmlPath", type="String", required=True, pipeline="True (ByPropertyName)",
         description="A domain XML file, edited offline; libvirt is not contacted. Alias: Path."),
    dict(name="ConnectionUri", type="String", default="qemu:///system",
         description="The libvirt connection URI for -Domain."),
    dict(name="ConfigPath", type="String", default="/etc/libvirt/qemu.conf",
         description="libvirt's qemu.conf: where the auto-dump directory, its cache bypass and QEMU's user are read (and, with -AutoDumpPath or -BypassCache, written)."),
]

CMD = dict(
    name="Set-GuestPanicDevice",
    synopsis="Gives a libvirt domain a panic device, a crash action and VMCOREINFO, so a guest panic leaves a usable dump.",
    description="""Set-GuestPanicDevice edits a domain's XML surgically: it adds or changes <panic model>, <on_crash> and <features><vmcoreinfo state>, and nothing else; unknown elements, attributes, namespaces and comments survive, and the result passes virt-xml-validate.

-Model Auto picks what this libvirt, architecture and machine type support: libvirt 9.0 rejects the PCI pvpanic model (it arrived in 9.1), so Auto uses the ISA device there; pseries and s390 guests get their own models.

With -OnCrash CoredumpDestroy or CoredumpRestart, libvirt writes a full-size ELF dump of guest memory into qemu.conf's auto_dump_path when the guest panics. The command checks that directory: it exists, the user QEMU runs as (qemu.conf user) can write it, its free space compared with the guest's RAM, and O_DIRECT support when the cache is bypassed. CoredumpRestart loops on a guest that panics at boot, one full-RAM dump per boot: a warning says so.

-AutoDumpPath and -BypassCache write qemu.conf, which libvirt reads only at start: restart the daemon (Enable-QemuCoreDump -RestartDaemon) before the next panic. -WhatIf prints the exact diff and changes nothing.""",
    sets={
        "Domain": ["Domain", "ConnectionUri", "Model", "OnCrash", "VmcoreInfo", "ConfigPath", "AutoDumpPath", "BypassCache"],
        "XmlPath": ["XmlPath", "Model", "OnCrash", "VmcoreInfo", "ConfigPath", "AutoDumpPath", "BypassCache"],
    },
    required={"Domain": ["Domain"], "XmlPath": ["XmlPath"]},
    parameters=_source + [
        dict(name="Model", type="GuestPanicModel", default="Auto",
             description="Auto, Isa, Pvpanic (PCI, libvirt 9.1 or later), Hyperv (Windows guests with Hyper-V enlightenments), Pseries or S390. A model this libvirt or architecture refuses is an error (PanicModelNotSupported)."),
        dict(name="OnCrash", type="CrashAction",
             description="CoredumpDestroy, CoredumpRestart, Destroy, Restart, Preserve or RenameRestart. Without it, <on_crash> is left as it is."),
        dict(name="VmcoreInfo", type="Boolean", default="True",
             description="<features><vmcoreinfo state='on'>: the guest hands QEMU its VMCOREINFO, which crash and makedumpfile need to read the dump."),
        dict(name="AutoDumpPath", type="String",
             description="Sets qemu.conf auto_dump_path, the directory libvirt writes crash dumps to. Must be absolute."),
        dict(name="BypassCache", type="SwitchParameter",
             description="Sets qemu.conf auto_dump_bypass_cache: dumps are written with O_DIRECT, not through the page cache."),
    ],
    inputs=[("System.String", "Domain and XmlPath can come from the pipeline by property name.")],
    outputs=[("VmDebug.GuestPanicConfiguration", "Domain, Path, PanicModel, OnCrash, VmcoreInfo, DumpCore, Machine, Arch, MemoryBytes, TakesEffectAtNextBoot, DumpDirectory, Warnings, Changes, Diff.")],
    notes="Error ids: DomainSourceAmbiguous, DomainXmlNotFound, DomainXmlInvalid, PanicModelNotSupported, AutoDumpPathNotAbsolute, LibvirtDomainNotFound.",
    examples=[
        ("Dump on panic, then destroy", "Set-GuestPanicDevice -Domain web1 -OnCrash CoredumpDestroy -AutoDumpPath /var/crash/libvirt",
         "The next panic of web1 leaves an ELF dump in /var/crash/libvirt; restart the daemon so it reads the new directory."),
        ("Preview an offline edit", "Set-GuestPanicDevice -XmlPath ./web1.xml -OnCrash Preserve -WhatIf", "Prints the unified diff of web1.xml."),
    ],
    links=["Get-GuestPanicDevice", "Enable-QemuCoreDump", "Wait-GuestPanic", "Invoke-GuestMemoryDump"],
)
