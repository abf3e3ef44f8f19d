CMD = dict(
    name="Convert-Vmcore",
    synopsis="Rewrites a vmcore as ELF or as a compressed kdump file that crash and makedumpfile open.",
    description="""Convert-Vmcore reads any dump VmDebug understands (ELF vmcores, makedumpfile's flattened stream, seekable kdump files with zlib, LZO, snappy or zstd pages) and writes it again as ELF or as a compressed kdump file. Pages are compressed in parallel; zero pages are stored once and shared. The kernel release and phys_base come from the dump's VMCOREINFO, so the result opens in crash and makedumpfile.

Debian's QEMU writes no LZO, snappy or zstd dumps; Convert-Vmcore does. Note that Debian's makedumpfile reads only zlib and LZO kdump files; crash reads all four.

The output is created exclusively with mode 0600 under a temporary name and renamed when complete; an existing file is replaced only with -Force.""",
    sets={"Path": ["Path", "Destination", "Format", "DumpLevel", "Force"], "LiteralPath": ["LiteralPath", "Destination", "Format", "DumpLevel", "Force"]},
    required={"Path": ["Path", "Destination"], "LiteralPath": ["LiteralPath", "Destination"]},
    parameters=[
        dict(name="Path", type="String", required=True, position="0", pipeline="True (ByPropertyName)",
             description="The vmcore to read. Wildcards are resolved; exactly one file must match."),
        dict(name="LiteralPath", type="String", required=True, pipeline="True (ByPropertyName)",
             description="The vmcore to read, used exactly as written."),
        dict(name="Destination", type="String", required=True, position="1",
             description="The file to create."),
        dict(name="Format", type="DumpFormat", default="KdumpZlib",
             description="Elf, KdumpZlib, KdumpLzo, KdumpSnappy or KdumpZstd."),
        dict(name="DumpLevel", type="Int32", default="0",
             description="makedumpfile's dump level, 0 to 31, a sum of: 1 zero pages, 2 page cache without private data, 4 all page cache, 8 user process data, 16 free pages; hwpoison and offline pages are left out at every level above 0. Pages are classified from the dump's VMCOREINFO and its own struct pages, each rule only where the kernel exports the keys it needs, and at -DumpLevel 31 the pages kept are makedumpfile's (the result's Pages property counts each class). Kdump formats only."),
        dict(name="Force", type="SwitchParameter",
             description="Replace an existing file at Destination."),
    ],
    inputs=[("System.String", "Path can come from the pipeline by property name, e.g. from Invoke-GuestMemoryDump.")],
    outputs=[("VmDebug.GuestMemoryDump", "The new file: Path, Format, SizeBytes, GuestRamBytes, Duration, KernelRelease, PhysBase; Source is VmcoreFile and Target the input.")],
    examples=[
        ("Keep only what crash needs", "Convert-Vmcore ./vm1.elf ./vm1.kdump -Format KdumpLzo -DumpLevel 31",
         "Like makedumpfile -l -d 31: free, cache, user and zero pages are left out."),
        ("Shrink an ELF dump", "Convert-Vmcore /var/crash/vm1.elf /var/crash/vm1.kdump -Format KdumpZstd",
         "A 2 GiB ELF dump of an idle guest becomes tens of megabytes."),
        ("Dump and convert in one pipeline", "Invoke-GuestMemoryDump -QmpSocket ./qmp.sock -Path ./vm.elf | Convert-Vmcore -Destination ./vm.kdump -Format KdumpLzo",
         "The dump's Path binds to Convert-Vmcore's Path."),
    ],
    links=["Invoke-GuestMemoryDump", "about_VmDebug"],
)
