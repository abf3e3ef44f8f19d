namespace VmDebug.Engine.Vmcore;

/// <summary>What to do with all-zero pages in a kdump file.</summary>
public enum ZeroPagePolicy
{
    /// <summary>
    /// Keep them, all pointing at one stored zero page (QEMU's way). makedumpfile and crash read such pages as
    /// zeros; excluded ones are read errors for them (makedumpfile --dump-dmesg fails on a kernel whose printk
    /// descriptor ring sits in a zero page).
    /// </summary>
    Share,

    /// <summary>
    /// Leave them out of the dumpable bitmap: smaller by a descriptor each, but peers cannot read them. (makedumpfile
    /// -d 1 does not do this: it points them all at one stored zero page, as <see cref="Share"/> does.)
    /// </summary>
    Exclude,
}
