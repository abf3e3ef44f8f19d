namespace VmDebug;

/// <summary>
/// Pages of a guest by makedumpfile's exclusion classes (its "Excluded pages" report and --mem-usage), as a dump
/// level sees them: each page is counted once, in the first class that excludes it, in makedumpfile's order
/// (free, cache, user, hwpoison, offline; zero pages are found among the rest by their contents).
/// </summary>
public sealed class GuestMemoryUsage
{
    /// <summary>The dump the pages were counted in.</summary>
    public string? Path { get; init; }

    /// <summary>The guest kernel's release from VMCOREINFO.</summary>
    public string? KernelRelease { get; init; }

    public int PageSize { get; init; } = 4096;

    /// <summary>The dump level the counts were taken at (1 zero, 2 cache without private, 4 all cache, 8 user data, 16 free).</summary>
    public required int DumpLevel { get; init; }

    /// <summary>Pages present in the source.</summary>
    public required long Total { get; init; }

    /// <summary>All-zero pages not excluded by any other class (-d 1).</summary>
    public required long Zero { get; init; }

    /// <summary>Page-cache pages without private data (-d 2).</summary>
    public required long CacheClean { get; init; }

    /// <summary>Page-cache pages with private data, such as buffer heads (-d 4).</summary>
    public required long CachePrivate { get; init; }

    /// <summary>Anonymous and hugetlbfs pages of user processes (-d 8).</summary>
    public required long User { get; init; }

    /// <summary>Pages on the buddy allocator's free lists (-d 16).</summary>
    public required long Free { get; init; }

    /// <summary>Hardware-poisoned pages (excluded at every level above 0).</summary>
    public required long Poisoned { get; init; }

    /// <summary>Logically offline pages, such as ones a balloon took (excluded at every level above 0).</summary>
    public required long Offline { get; init; }

    /// <summary>Rules the level asks for that this kernel's VMCOREINFO cannot support; their pages were kept.</summary>
    public IReadOnlyList<string> UnavailableRules { get; init; } = [];

    /// <summary>Pages the dump keeps.</summary>
    public long Kept => Total - Zero - CacheClean - CachePrivate - User - Free - Poisoned - Offline;

    public override string ToString() =>
        $"-d {DumpLevel}: {Kept} of {Total} pages kept (zero {Zero}, cache {CacheClean}, private cache {CachePrivate}, user {User}, free {Free}, "
        + $"hwpoison {Poisoned}, offline {Offline})";
}
