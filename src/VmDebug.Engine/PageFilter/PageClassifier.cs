using System.Buffers.Binary;
using VmDebug.Engine.GuestKernel;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.PageFilter;

/// <summary>The fields of one struct page that classification reads.</summary>
internal readonly record struct StructPageState(ulong Flags, ulong Mapping, int MapCount, ulong Private, ulong CompoundHead, int Order,
    bool Hugetlb);

/// <summary>
/// Classifies a dump's pages by the dump's own struct page array, as makedumpfile's __exclude_unnecessary_pages
/// does: compound tails are skipped (their head decides for them), then buddy free blocks, page cache (non-private,
/// then private), anonymous and hugetlb user pages, hwpoison and logically offline pages, each rule only when
/// its VMCOREINFO keys are present.
/// </summary>
public static class PageClassifier
{
    public const int ExcludeZero = 1, ExcludeCacheClean = 2, ExcludeCacheAll = 4, ExcludeUser = 8, ExcludeFree = 16;
    public const int MaxDumpLevel = 31;

    // makedumpfile reads struct pages PGMM_CACHED at a time; compound heads never sit in the last slot of such an
    // aligned run, but one more struct page is read so the order of any head is at hand.
    private const int PagesPerRead = 512;
    private const int MaxOrder = 63;

    /// <summary>Classifies every page of <paramref name="source"/> at <paramref name="dumpLevel"/>.</summary>
    public static PageClassification Classify(IGuestMemorySource source, int dumpLevel, string sourceName, CancellationToken cancellationToken = default) =>
        Classify(source, dumpLevel, sourceName, null, cancellationToken);

    /// <summary>Classifies, telling <paramref name="decided"/> how far it has got (for a consumer running alongside).</summary>
    internal static PageClassification Classify(IGuestMemorySource source, int dumpLevel, string sourceName, DecidedPages? decided,
        CancellationToken cancellationToken)
    {
        ValidateLevel(dumpLevel);
        var maxPfn = source.Ranges.Count == 0 ? 0 : (source.Ranges[^1].End + (ulong)source.PageSize - 1) / (ulong)source.PageSize;
        var excluded = new PfnBitmap(maxPfn);
        var counts = new long[Enum.GetValues<PageClass>().Length];
        var total = (long)(PageBatches.TotalBytes(source.Ranges) / (ulong)source.PageSize);
        if (dumpLevel == 0)
        {
            return new PageClassification(dumpLevel, excluded, total, counts, []);
        }
        if (dumpLevel == ExcludeZero)
        {
            // Zero pages need no struct page; only the memory-map end, where the dump says enough to find it.
            var end = TryMemoryMapEnd(source, sourceName, maxPfn);
            var kept = end is { } e ? (long)(PageBatches.TotalBytes(new ClippedSource(source, e).Ranges) / (ulong)source.PageSize) : total;
            return new PageClassification(dumpLevel, excluded, kept, counts, []) { MemoryMapEnd = end };
        }

        var reader = Open(source, sourceName, dumpLevel);
        var layout = reader.Layout;
        var memoryMapEnd = reader.MemoryMapEnd(maxPfn);
        decided?.Start(excluded, memoryMapEnd);
        if (memoryMapEnd is { } mapEnd)
        {
            total = (long)(PageBatches.TotalBytes(new ClippedSource(source, mapEnd).Ranges) / (ulong)source.PageSize);
        }

        foreach (var range in source.Ranges)
        {
            var first = (range.Start + (ulong)source.PageSize - 1) / (ulong)source.PageSize;
            var end = Math.Min(range.End / (ulong)source.PageSize, memoryMapEnd ?? ulong.MaxValue);
            for (var pfn = first; pfn < end; pfn++)
            {
                if ((pfn & (PagesPerRead - 1)) == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    decided?.Advance(pfn);
                }
                if (reader.Read(pfn) is not { } page)
                {
                    continue;
                }
                var (pageClass, pages) = Decide(page, layout, dumpLevel);
                if (pageClass == PageClass.Kept)
                {
                    continue;
                }
                var stop = Math.Min(pfn + pages, maxPfn);
                for (var p = pfn; p < stop; p++)
                {
                    // Like makedumpfile's clear_bit_on_2nd_bitmap: count a page once, and only where the dump has memory.
                    if (!excluded[p] && (p < end || InRanges(source, p)))
                    {
                        excluded.Set(p);
                        counts[(int)pageClass]++;
                    }
                }
                pfn = stop - 1;
            }
        }
        decided?.Finish();
        return new PageClassification(dumpLevel, excluded, total, counts, layout.MissingRules()) { MemoryMapEnd = memoryMapEnd };
    }

    /// <summary>A reader of the source's struct pages (also what tests use to explain a page's class).</summary>
    internal static StructPageReader Open(IGuestMemorySource source, string sourceName, int dumpLevel = MaxDumpLevel)
    {
        var info = VmcoreInfo.FromNotes(source.Notes)
            ?? throw new GuestKernelException(GuestKernelException.NoVmcoreInfo, ErrorKind.InvalidData, sourceName,
                $"the dump has no VMCOREINFO, so dump level {dumpLevel} cannot tell cache, user and free pages apart; use level 0 or 1.");
        var layout = StructPageLayout.From(info, sourceName);
        var view = new KernelMemoryView(new DumpPhysicalMemory(source, sourceName), info);
        return new StructPageReader(view, new MemMap(view, source.PageSize, layout.Size, sourceName), layout);
    }

    private static ulong? TryMemoryMapEnd(IGuestMemorySource source, string sourceName, ulong maxPfn)
    {
        try
        {
            return Open(source, sourceName, ExcludeZero).MemoryMapEnd(maxPfn);
        }
        catch (GuestKernelException)
        {
            return null; // no VMCOREINFO or no memory-model keys: -d 1 then keeps every range
        }
    }

    public static void ValidateLevel(int dumpLevel)
    {
        if (dumpLevel is < 0 or > MaxDumpLevel)
        {
            throw new VmDebugException("DumpLevelInvalid", ErrorKind.InvalidArgument,
                $"Dump level {dumpLevel} is not between 0 and {MaxDumpLevel} (1 zero, 2 cache without private, 4 all cache, 8 user data, 16 free pages).",
                dumpLevel);
        }
    }

    /// <summary>The class of one head or ordinary page, and how many pages from it on that class covers.</summary>
    internal static (PageClass Class, ulong Pages) Decide(StructPageState page, StructPageLayout layout, int level)
    {
        if ((page.CompoundHead & 1) != 0)
        {
            return (PageClass.Kept, 1); // a tail: its head already decided for the whole compound page
        }
        var slab = (layout.Slab is { } slabBit && (page.Flags & (1UL << slabBit)) != 0)
            || (layout.SlabValue is { } slabValue && page.MapCount == slabValue);
        var pages = 1UL << page.Order;
        if ((level & ExcludeFree) != 0 && layout.BuddyValue is { } buddy && !slab && page.MapCount == buddy)
        {
            // An order no free list has is not a trustworthy buddy page. Without LENGTH(zone.free_area) only orders that
            // fit a 32-bit shift are believed; the range is clipped to the dump in any case.
            if (layout.FreeAreaOrders is { } orders ? page.Private >= (ulong)orders : page.Private > MaxOrder / 2)
            {
                return (PageClass.Kept, 1);
            }
            return (PageClass.Free, 1UL << (int)page.Private);
        }
        var cache = IsSet(page.Flags, layout.Lru)
            || (IsSet(page.Flags, layout.SwapCache) && (layout.SwapBacked is null || IsSet(page.Flags, layout.SwapBacked)));
        var anon = layout.Mapping is not null && (page.Mapping & StructPageLayout.MappingAnon) != 0 && !slab;
        var privateData = IsSet(page.Flags, layout.PrivateBit);
        if ((level & ExcludeCacheClean) != 0 && cache && !privateData && !anon)
        {
            return (PageClass.CacheClean, pages);
        }
        if ((level & ExcludeCacheAll) != 0 && cache && !anon)
        {
            return (privateData ? PageClass.CachePrivate : PageClass.CacheClean, pages);
        }
        if ((level & ExcludeUser) != 0 && (anon || page.Hugetlb))
        {
            return (PageClass.User, pages);
        }
        if (IsSet(page.Flags, layout.HwPoison))
        {
            return (PageClass.Poisoned, pages);
        }
        if (layout.OfflineValue is { } offline && !slab && page.MapCount == offline)
        {
            return (PageClass.Offline, pages);
        }
        return (PageClass.Kept, 1);
    }

    private static bool IsSet(ulong flags, int? bit) => bit is { } b && (flags & (1UL << b)) != 0;

    private static bool InRanges(IGuestMemorySource source, ulong pfn)
    {
        var address = pfn * (ulong)source.PageSize;
        foreach (var range in source.Ranges)
        {
            if (address >= range.Start && address < range.End)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Reads struct pages in aligned runs through the kernel's page tables.</summary>
    internal sealed class StructPageReader(KernelMemoryView view, MemMap memMap, StructPageLayout layout)
    {
        private readonly byte[] _run = new byte[(PagesPerRead + 1) * layout.Size];
        private ulong _runStart = ulong.MaxValue;

        public StructPageLayout Layout => layout;

        public ulong? MemoryMapEnd(ulong maxPfn) => memMap.MemoryMapEnd(maxPfn);
        private bool _runValid;

        public StructPageState? Read(ulong pfn)
        {
            var start = pfn & ~(ulong)(PagesPerRead - 1);
            if (start != _runStart)
            {
                _runStart = start;
                _runValid = memMap.PageStruct(start) is { } address
                    && (view.TryRead(address, _run) || ReadRunWithoutSuccessor(address));
            }
            ReadOnlySpan<byte> entry, next;
            var index = (int)(pfn - start);
            if (_runValid)
            {
                entry = _run.AsSpan(index * layout.Size, layout.Size);
                next = _run.AsSpan((index + 1) * layout.Size, layout.Size);
            }
            else
            {
                // Part of this run has no memory map (a hole in the vmemmap): read just this page and its successor.
                var pair = new byte[2 * layout.Size];
                if (memMap.PageStruct(pfn) is not { } address || !view.TryRead(address, pair.AsSpan(0, layout.Size)))
                {
                    return null;
                }
                if (!view.TryRead(address + (ulong)layout.Size, pair.AsSpan(layout.Size)))
                {
                    pair.AsSpan(layout.Size).Clear();
                }
                entry = pair.AsSpan(0, layout.Size);
                next = pair.AsSpan(layout.Size);
            }
            return Decode(entry, next, pfn);
        }

        /// <summary>At the end of a memory map the struct page after the run is unmapped; no head needs it there.</summary>
        private bool ReadRunWithoutSuccessor(ulong address)
        {
            _run.AsSpan(PagesPerRead * layout.Size).Clear();
            return view.TryRead(address, _run.AsSpan(0, PagesPerRead * layout.Size));
        }

        private StructPageState Decode(ReadOnlySpan<byte> page, ReadOnlySpan<byte> firstTail, ulong pfn)
        {
            var flags = BinaryPrimitives.ReadUInt64LittleEndian(page[layout.Flags..]);
            var mapCount = layout.MapCount is { } m ? BinaryPrimitives.ReadInt32LittleEndian(page[m..]) : 0;
            var order = 0;
            var hugetlb = false;
            if (layout.HeadMask is { } head && (flags & head) != 0)
            {
                var tailFlags = BinaryPrimitives.ReadUInt64LittleEndian(firstTail[layout.Flags..]);
                order = layout.CompoundOrder is { } o ? firstTail[o] : (int)(tailFlags & 0xff);
                if (order > MaxOrder || (pfn & ((1UL << order) - 1)) != 0)
                {
                    order = 0; // not aligned to its own size: not a real compound head
                }
                hugetlb = (layout.CompoundDtor is { } d && layout.HugetlbDtor is { } dtor && firstTail[d] == dtor)
                    || IsSet(tailFlags, layout.Hugetlb)
                    || (layout.HugetlbValue is { } value && mapCount == value);
            }
            return new StructPageState(
                flags,
                layout.Mapping is { } mapping ? BinaryPrimitives.ReadUInt64LittleEndian(page[mapping..]) : 0,
                mapCount,
                layout.Private is { } p ? BinaryPrimitives.ReadUInt64LittleEndian(page[p..]) : 0,
                layout.CompoundHead is { } c ? BinaryPrimitives.ReadUInt64LittleEndian(page[c..]) : 0,
                order,
                hugetlb);
        }
    }
}
