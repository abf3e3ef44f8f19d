CMD = dict(
    name="Get-GuestMemoryUsage",
    synopsis="Counts a dump's pages by makedumpfile class (zero, cache, private cache, user, free, hwpoison, offline) without writing anything.",
    description="""Get-GuestMemoryUsage reads a vmcore (ELF, kdump or makedumpfile's flattened stream) and classifies every page as a dump level does: from the dump's VMCOREINFO and the guest kernel's own struct page array, found through the kernel's page tables. A page is counted once, in the first class that excludes it, in makedumpfile's order: free (buddy allocator), page cache without private data, page cache with private data, anonymous and hugetlbfs user data, hardware-poisoned, logically offline (ballooned); zero pages are then found among the rest by their contents. Kept is what a dump at that level keeps.

Each rule is used only when the VMCOREINFO keys it needs are present, never because of a kernel version; the counts equal makedumpfile's report for the same dump level. Nothing is written.""",
    sets={"Path": ["Path", "DumpLevel"], "LiteralPath": ["LiteralPath", "DumpLevel"]},
    required={"Path": ["Path"], "LiteralPath": ["LiteralPath"]},
    parameters=[
        dict(name="Path", type="String", required=True, position="0", pipeline="True (ByPropertyName)",
             description="The vmcore to read; wildcards are resolved and every match is counted. Binds from a GuestMemoryDump's Path."),
        dict(name="LiteralPath", type="String", required=True, pipeline="True (ByPropertyName)",
             description="The vmcore to read, used exactly as written."),
        dict(name="DumpLevel", type="Int32", default="31",
             description="The dump level whose classes are counted, 0 to 31 (1 zero, 2 cache without private, 4 all cache, 8 user data, 16 free). 31 counts every class."),
    ],
    inputs=[("System.String", "Path can come from the pipeline by property name, e.g. from Invoke-GuestMemoryDump.")],
    outputs=[("VmDebug.GuestMemoryUsage", "Path, KernelRelease, PageSize, DumpLevel, Total, Zero, CacheClean, CachePrivate, User, Free, Poisoned, Offline and Kept (page counts).")],
    notes="Error ids: GuestKernelNoVmcoreInfo (the dump has no VMCOREINFO), GuestKernelVmcoreInfoIncomplete (a key the classification needs is missing or implausible), DumpLevelInvalid.",
    examples=[
        ("What would -d 31 keep?", "Get-GuestMemoryUsage ./vm1.elf",
         "Shows the page counts per class and the pages a -d 31 dump keeps."),
        ("Size a dump before writing it", "$u = Get-GuestMemoryUsage ./vm1.elf; '{0:N0} MiB kept' -f ($u.Kept * $u.PageSize / 1MB)",
         "Kept pages times the page size bounds the uncompressed data of the filtered dump."),
    ],
    links=["Convert-Vmcore", "Invoke-GuestMemoryDump", "about_VmDebug"],
)
