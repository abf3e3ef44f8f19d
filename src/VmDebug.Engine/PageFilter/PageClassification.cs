using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.PageFilter;

/// <summary>What a dump level excludes by struct page state (zero pages are decided later, by contents).</summary>
public sealed class PageClassification
{
    internal PageClassification(int dumpLevel, PfnBitmap excluded, long total, long[] counts, IReadOnlyList<string> unavailableRules)
    {
        DumpLevel = dumpLevel;
        Excluded = excluded;
        Total = total;
        _counts = counts;
        UnavailableRules = unavailableRules;
    }

    private readonly long[] _counts;

    public int DumpLevel { get; }

    /// <summary>Pages left out whatever their contents.</summary>
    public PfnBitmap Excluded { get; }

    /// <summary>Pages considered: those present below <see cref="MemoryMapEnd"/>.</summary>
    public long Total { get; }

    /// <summary>The frame where the kernel's memory map ends; pages from here on are not written (null: not clipped).</summary>
    public ulong? MemoryMapEnd { get; init; }

    /// <summary>Rules the level asks for that this kernel's VMCOREINFO cannot support (their pages are kept).</summary>
    public IReadOnlyList<string> UnavailableRules { get; }

    public long Count(PageClass pageClass) => _counts[(int)pageClass];

    /// <summary>
    /// The result for <paramref name="path"/>: these counts, with <paramref name="zero"/> all-zero pages found among
    /// the pages kept.
    /// </summary>
    public GuestMemoryUsage Usage(long zero, string path, IGuestMemorySource source) => new()
    {
        Path = path,
        KernelRelease = VmcoreInfo.FromNotes(source.Notes)?.OsRelease,
        PageSize = source.PageSize,
        DumpLevel = DumpLevel,
        Total = Total,
        Zero = zero,
        CacheClean = Count(PageClass.CacheClean),
        CachePrivate = Count(PageClass.CachePrivate),
        User = Count(PageClass.User),
        Free = Count(PageClass.Free),
        Poisoned = Count(PageClass.Poisoned),
        Offline = Count(PageClass.Offline),
        UnavailableRules = UnavailableRules,
    };
}
