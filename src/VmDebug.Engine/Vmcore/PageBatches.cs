namespace VmDebug.Engine.Vmcore;

/// <summary>A run of consecutive page frames inside one range of a source.</summary>
internal readonly record struct PageBatch(int RangeIndex, ulong FirstPfn, int Count);

internal static class PageBatches
{
    public const int PagesPerBatch = 256;

    /// <summary>Splits every range into batches of whole pages covering it (a partial first/last page included).</summary>
    public static List<PageBatch> Plan(IReadOnlyList<PhysicalRange> ranges, int pageSize)
    {
        var batches = new List<PageBatch>();
        for (var r = 0; r < ranges.Count; r++)
        {
            var range = ranges[r];
            if (range.Length == 0)
            {
                continue;
            }
            var first = range.Start / (ulong)pageSize;
            var last = (range.End - 1) / (ulong)pageSize;
            for (var pfn = first; pfn <= last; pfn += PagesPerBatch)
            {
                batches.Add(new PageBatch(r, pfn, (int)Math.Min(PagesPerBatch, last - pfn + 1)));
            }
        }
        return batches;
    }

    public static ulong TotalBytes(IReadOnlyList<PhysicalRange> ranges) => ranges.Aggregate(0UL, (sum, r) => sum + r.Length);

    public static void Validate(IGuestMemorySource source)
    {
        if (source.PageSize < 512 || source.PageSize > 1 << 20 || !int.IsPow2(source.PageSize))
        {
            throw new ArgumentException($"page size {source.PageSize} is not a power of two between 512 and 1 MiB", nameof(source));
        }
        PhysicalRange? previous = null;
        foreach (var range in source.Ranges)
        {
            if (range.Start > ulong.MaxValue - range.Length || (previous is { } p && range.Start < p.End))
            {
                throw new ArgumentException("the source's ranges overlap or are not sorted", nameof(source));
            }
            previous = range;
        }
    }
}
