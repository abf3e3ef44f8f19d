using VmDebug.Engine.GuestKernel;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.PageFilter;

/// <summary>
/// What VMCOREINFO says about struct page: its size, field offsets, flag bit numbers and page-type values. Every
/// classification rule is enabled by the keys it needs being present, never by the kernel's version
/// (makedumpfile broke on 6.2, 6.3, 6.6, 6.9, 6.10 and 6.12 by deciding on versions).
/// </summary>
internal sealed class StructPageLayout
{
    /// <summary>makedumpfile.h PAGE_MAPPING_ANON: the kernel never exports it.</summary>
    public const ulong MappingAnon = 1;

    private StructPageLayout(VmcoreInfo info, string source)
    {
        Size = Require(info.Size("page"), "SIZE(page)", source);
        if (Size is < 32 or > 512)
        {
            throw Incomplete(source, $"SIZE(page)={Size} is not a plausible struct page size");
        }
        Flags = Field(info.Offset("page", "flags"), "OFFSET(page.flags)", source, 8) ?? throw Incomplete(source, "VMCOREINFO has no OFFSET(page.flags)");
        Mapping = Field(info.Offset("page", "mapping"), "OFFSET(page.mapping)", source, 8);
        MapCount = Field(info.Offset("page", "_mapcount"), "OFFSET(page._mapcount)", source, 4);
        Private = Field(info.Offset("page", "private"), "OFFSET(page.private)", source, 8);
        CompoundHead = Field(info.Offset("page", "compound_head"), "OFFSET(page.compound_head)", source, 8);
        CompoundOrder = Field(info.Offset("page", "compound_order"), "OFFSET(page.compound_order)", source, 1)
            ?? Field(info.Offset("folio", "_folio_order"), "OFFSET(folio._folio_order)", source, 1);
        CompoundDtor = Field(info.Offset("page", "compound_dtor"), "OFFSET(page.compound_dtor)", source, 1)
            ?? Field(info.Offset("folio", "_folio_dtor"), "OFFSET(folio._folio_dtor)", source, 1);
        HeadMask = info.Number("PG_head_mask") is > 0 and var head ? (ulong)head : null;
        Lru = Bit(info, "PG_lru");
        PrivateBit = Bit(info, "PG_private");
        SwapCache = Bit(info, "PG_swapcache");
        SwapBacked = Bit(info, "PG_swapbacked");
        Slab = Bit(info, "PG_slab");
        HwPoison = Bit(info, "PG_hwpoison");
        Hugetlb = Bit(info, "PG_hugetlb");
        BuddyValue = Int32(info.Number("PAGE_BUDDY_MAPCOUNT_VALUE"));
        OfflineValue = Int32(info.Number("PAGE_OFFLINE_MAPCOUNT_VALUE"));
        SlabValue = Int32(info.Number("PAGE_SLAB_MAPCOUNT_VALUE"));
        HugetlbValue = Int32(info.Number("PAGE_HUGETLB_MAPCOUNT_VALUE"));
        HugetlbDtor = info.Number("HUGETLB_PAGE_DTOR");
        FreeAreaOrders = info.Length("zone.free_area") is > 0 and < 64 and var orders ? (int)orders : null;
    }

    public int Size { get; }
    public int Flags { get; }
    public int? Mapping { get; }
    public int? MapCount { get; }
    public int? Private { get; }
    public int? CompoundHead { get; }

    /// <summary>Where a compound page's order sits in its first tail page; null means the low byte of that page's flags (6.6+).</summary>
    public int? CompoundOrder { get; }

    public int? CompoundDtor { get; }
    public ulong? HeadMask { get; }
    public int? Lru { get; }
    public int? PrivateBit { get; }
    public int? SwapCache { get; }
    public int? SwapBacked { get; }
    public int? Slab { get; }
    public int? HwPoison { get; }
    public int? Hugetlb { get; }
    public int? BuddyValue { get; }
    public int? OfflineValue { get; }
    public int? SlabValue { get; }
    public int? HugetlbValue { get; }
    public long? HugetlbDtor { get; }
    public int? FreeAreaOrders { get; }

    /// <summary>The rules whose keys are missing, for the result object.</summary>
    public IReadOnlyList<string> MissingRules()
    {
        var missing = new List<string>();
        if (BuddyValue is null || MapCount is null || Private is null)
        {
            missing.Add("free pages (NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE), OFFSET(page._mapcount), OFFSET(page.private))");
        }
        if (Lru is null)
        {
            missing.Add("cache pages (NUMBER(PG_lru))");
        }
        if (Mapping is null)
        {
            missing.Add("user pages (OFFSET(page.mapping))");
        }
        return missing;
    }

    public static StructPageLayout From(VmcoreInfo info, string source) => new(info, source);

    private static int? Bit(VmcoreInfo info, string name) => info.Number(name) is >= 0 and < 64 and var bit ? (int)bit : null;

    private static int? Int32(long? value) => value is >= int.MinValue and <= uint.MaxValue ? unchecked((int)value.Value) : null;

    private int? Field(ulong? offset, string key, string source, int width)
    {
        if (offset is null)
        {
            return null;
        }
        if (offset.Value + (ulong)width > (ulong)Size)
        {
            throw Incomplete(source, $"{key}={offset} lies outside the {Size}-byte struct page");
        }
        return (int)offset.Value;
    }

    private static int Require(ulong? value, string key, string source) =>
        value is { } v && v <= int.MaxValue ? (int)v : throw Incomplete(source, $"VMCOREINFO has no {key}");

    private static GuestKernelException Incomplete(string source, string reason) =>
        new(GuestKernelException.VmcoreInfoIncomplete, ErrorKind.InvalidData, source, $"{reason}, which dump levels need to classify pages.");
}
