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
    name="Get-GuestCrashInfo",
    synopsis="Says why a guest kernel died, from a dump, a QEMU process core or a live guest, without a vmlinux.",
    description="""Get-GuestCrashInfo reads the guest kernel's VMCOREINFO, its printk ring, QEMU's per-vCPU CPU notes and the kernel's own kallsyms tables, and returns one GuestCrashInfo: KernelRelease, BuildId (flagged by BuildIdValid when it is not 40 hex digits, as some stable kernels emit), PageSize, PhysBase, KernelOffset (the KASLR slide) and PagingLevels; PanicMessage (the text after "Kernel panic - not syncing: "), the oops and BUG header lines, the crashing task (Cpu, Pid, Comm) and Taint from the "CPU: n PID: n Comm: x" line, the first call trace frame by frame, Uptime (the last record's time), and one entry per vCPU with RIP, RSP, CR3 and the RIP's symbol.

Symbols come only from the kernel's kallsyms, which VMCOREINFO points to on Linux 6.0 and newer, never from a vmlinux. When kallsyms is absent the warning says so and every symbol is left empty. Module addresses are not resolved (module symbol tables are not described by VMCOREINFO). Dumps written by QEMU carry CPU notes; process cores and live guests do not, so Vcpus is empty for them.""",
    sets=_SETS,
    required=_REQUIRED,
    parameters=_SOURCES,
    inputs=[("System.String", "Path, LiteralPath (PSPath), CoreFile, QmpSocket and Domain by property name.")],
    outputs=[("VmDebug.GuestCrashInfo", "The crash summary; CallTrace holds GuestCallFrame objects (Symbol, Offset, Size, Reliable, Module, Address) and Vcpus GuestVcpuState objects (Cpu, Rip, Rsp, Cr3, RipSymbol).")],
    notes="Error ids as for Get-GuestKernelLog. A log that cannot be read is a warning: the VMCOREINFO facts are still returned.",
    examples=[
        ("Why did it die?", "Get-GuestCrashInfo -Path /var/crash/web1.elf",
         "PanicMessage, Task and the first call-trace frames answer it; RipSymbol and the frames' addresses come from the guest's own kallsyms."),
        ("The crashing task of every dump", "Get-ChildItem /var/crash/*.elf | Get-GuestCrashInfo | Select-Object Source, PanicMessage, Comm, Pid",
         "Get-ChildItem's PSPath binds to -LiteralPath."),
    ],
    links=["Get-GuestKernelLog", "Invoke-GuestMemoryDump"],
)
