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
    name="Get-GuestPanicDevice",
    synopsis="Shows a domain's panic device, crash action, VMCOREINFO and whether its auto-dump directory can take a dump.",
    description="""Get-GuestPanicDevice reads a libvirt domain's persistent definition (read-only) or a domain XML file and returns its crash configuration: the panic device model, <on_crash>, vmcoreinfo, <memory dumpCore>, machine, architecture and RAM. For the coredump-* crash actions it also checks qemu.conf's auto-dump directory: it exists, QEMU's user can write it, and its free space compared with the guest's RAM. Problems come back as warnings.""",
    sets={
        "Domain": ["Domain", "ConnectionUri", "ConfigPath"],
        "XmlPath": ["XmlPath", "ConfigPath"],
    },
    required={"Domain": ["Domain"], "XmlPath": ["XmlPath"]},
    parameters=_source,
    inputs=[("System.String", "Domain and XmlPath can come from the pipeline by property name.")],
    outputs=[("VmDebug.GuestPanicConfiguration", "Domain, Path, PanicModel, OnCrash, VmcoreInfo, DumpCore, Machine, Arch, MemoryBytes, DumpDirectory, Warnings.")],
    notes="Error ids: DomainSourceAmbiguous, DomainXmlNotFound, DomainXmlInvalid, LibvirtDomainNotFound.",
    examples=[
        ("Check one domain", "Get-GuestPanicDevice -Domain web1 | Format-List", "Shows the panic device, the crash action and, for coredump-* actions, whether the dump directory can take web1's RAM."),
    ],
    links=["Set-GuestPanicDevice"],
)
