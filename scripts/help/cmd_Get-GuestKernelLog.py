_SOURCES = [
    dict(name="Path", type="String", required=True, position="0", pipeline="True (ByPropertyName)",
         description="A vmcore: ELF, kdump compressed with zlib, lzo, snappy or zstd, or QEMU's flattened kdump output. Binds from Invoke-GuestMemoryDump's Path."),
    dict(name="LiteralPath", type="String", required=True, pipeline="True (ByPropertyName)",
         description="Like Path, used exactly as written. Alias: PSPath, so Get-Item output binds."),
    dict(name="CoreFile", type="String", required=True, pipeline="True (ByPropertyName)",
         description="A QEMU process core written with dump-guest-core=on; the guest's RAM is read out of it. Binds from Get-QemuCoreDump's CoreFile."),
    dict(name="GuestMemoryLayout", type="String",
         description="With CoreFile: the guest-physical layout when QEMU's command line does not settle it (q35, pc, or explicit ranges), as for Invoke-GuestMemoryDump."),
    dict(name="QmpSocket", type="String", required=True, pipeline="True (ByPropertyName)",
         description="A running, paused or hung guest's QMP Unix socket. Only the pages needed are read, with pmemsave into a pipe VmDebug owns in a private directory; no dump is written."),
    dict(name="Domain", type="String", required=True, pipeline="True (ByPropertyName)",
         description="A libvirt domain (alias Name). Pages are read with virDomainMemoryPeek (VIR_MEMORY_PHYSICAL); the domain is not tainted."),
    dict(name="ConnectionUri", type="String", description="The libvirt connection URI; default qemu:///system."),
    dict(name="Pause", type="SwitchParameter",
         description="Pause a running live guest while it is read and resume it afterwards. Without it a running guest keeps running (its newest records may then be mid-write)."),
]
_SETS = {
    "Path": ["Path"], "LiteralPath": ["LiteralPath"], "CoreFile": ["CoreFile", "GuestMemoryLayout"],
    "QmpSocket": ["QmpSocket", "Pause"], "Domain": ["Domain", "ConnectionUri", "Pause"],
}
_REQUIRED = {"Path": ["Path"], "LiteralPath": ["LiteralPath"], "CoreFile": ["CoreFile"], "QmpSocket": ["QmpSocket"], "Domain": ["Domain"]}

CMD = dict(
    name="Get-GuestKernelLog",
    synopsis="Reads a guest kernel's log, panic included, from a dump, a QEMU process core or a live guest, without a vmlinux.",
    description="""Get-GuestKernelLog reads the printk ring of a Linux guest through the VMCOREINFO the guest kernel exports: the lockless ring of Linux 5.10 and newer, and the structured log_buf of 3.5 to 5.9. Kernel virtual addresses are translated by walking the guest's own page tables (4 or 5 levels, KASLR handled), so no vmlinux, System.map or debug symbols are needed. When a dump carries no VMCOREINFO note (QEMU ran without -device vmcoreinfo), the text is found in guest RAM and validated.

It writes the same KmsgRecord objects as Get-VsockKmsgStream, with Guest naming the source (the dump's path, the socket, the domain). The streamed /dev/kmsg never carries the panic, because the guest's userspace dies first; the dump does. So $streamed + (Get-GuestKernelLog -Path $dump) | Sort-Object Sequence -Unique is the whole timeline, panic included.

Every count and size read from the guest is bounded by the ring's own size: a corrupted ring ends in the records that could be read and a warning, or a typed error, never a hang. vmdebug log prints the same records as text that is byte for byte what makedumpfile --dump-dmesg writes.""",
    sets={k: v + ["Tail", "MinimumLevel"] for k, v in _SETS.items()},
    required=_REQUIRED,
    parameters=_SOURCES + [
        dict(name="Tail", type="Int32", description="Only the last N records."),
        dict(name="MinimumLevel", type="KmsgLevel", description="Only records at this level or more severe (Emerg, Alert, Crit, Err, Warn, Notice, Info, Debug)."),
    ],
    inputs=[("System.String", "Path, LiteralPath (PSPath), CoreFile, QmpSocket and Domain by property name.")],
    outputs=[("VmDebug.KmsgRecord", "Sequence, SinceBoot, Level, Facility, Message, Fields (SUBSYSTEM, DEVICE), Caller and Guest (the source read).")],
    notes="Error ids: GuestKernelNoVmcoreInfo, GuestKernelVmcoreInfoIncomplete, GuestKernelAddressUnmapped, GuestKernelReadTooLarge, GuestKernelLiveReadFailed, KernelLogRingUnknown, KernelLogRingCorrupt. Live reads are confined to the guest's RAM ranges (pc and q35 machines).",
    examples=[
        ("The whole timeline, panic included", "$streamed = Get-VsockKmsgStream -Domain web1 -Count 500\n$streamed + (Get-GuestKernelLog -Path /var/crash/web1.elf) | Sort-Object Sequence -Unique",
         "Records present in both have the same Sequence, so -Unique keeps one of each; the dump adds the panic the stream never saw."),
        ("The last errors of a running guest", "Get-GuestKernelLog -Domain web1 -MinimumLevel Err -Tail 20",
         "The guest is read live and keeps running."),
        ("The log of a dump just taken", "Invoke-GuestMemoryDump -QmpSocket /run/vm1.qmp -Path vm1.elf | Get-GuestKernelLog -Tail 40",
         "The dump's Path binds to -Path."),
    ],
    links=["Get-GuestCrashInfo", "Get-VsockKmsgStream", "Invoke-GuestMemoryDump"],
)
