using VmDebug.Engine.GuestKernel;

namespace VmDebug.Engine.PageFilter;

/// <summary>
/// Finds the struct page of a page frame (x86_64 SPARSEMEM): through VMCOREINFO SYMBOL(vmemmap) when the kernel
/// exports it, otherwise by decoding the frame's mem_section entry (root array SYMBOL(mem_section) of
/// LENGTH(mem_section) roots, SIZE(mem_section), OFFSET(mem_section.section_mem_map), NUMBER(SECTION_SIZE_BITS)),
/// as makedumpfile's get_mm_sparsemem does. Sections without a memory map give null: their pages stay unclassified.
/// </summary>
internal sealed class MemMap
{
    private const ulong SectionPresent = 1UL << 0;
    private const ulong SectionHasMemMap = 1UL << 1;
    // Section flags live in the low bits of section_mem_map; newer kernels use up to six of them.
    private const ulong SectionFlagBits = (1UL << 6) - 1;

    private readonly KernelMemoryView _view;
    private readonly ulong? _vmemmap;
    private readonly ulong _rootArray;
    private readonly ulong _roots;
    private readonly ulong _sectionsPerRoot;
    private readonly ulong _sectionSize;
    private readonly ulong _sectionMemMapOffset;
    private readonly int _pfnSectionShift;
    private readonly ulong _pageStructSize;
    private readonly Dictionary<ulong, ulong?> _sections = new();
    private readonly bool _hasSections;

    public MemMap(KernelMemoryView view, int pageSize, int pageStructSize, string source)
    {
        _view = view;
        var info = view.VmcoreInfo;
        _pageStructSize = (ulong)pageStructSize;
        _vmemmap = info.Symbol("vmemmap");
        var sectionBits = info.Number("SECTION_SIZE_BITS") ?? 27; // x86_64's value before the kernel exported it (5.13)
        var pageShift = System.Numerics.BitOperations.Log2((uint)pageSize);
        if (sectionBits <= pageShift || sectionBits > 40)
        {
            throw Incomplete(source, $"NUMBER(SECTION_SIZE_BITS)={sectionBits} is not plausible");
        }
        _pfnSectionShift = (int)sectionBits - pageShift;
        if (info.Symbol("mem_section") is not { } rootArray)
        {
            _hasSections = false;
            _ = _vmemmap ?? throw Incomplete(source, "VMCOREINFO has neither SYMBOL(vmemmap) nor SYMBOL(mem_section)");
            return;
        }
        _hasSections = true;
        _rootArray = rootArray;
        _sectionSize = info.Size("mem_section") is > 0 and <= 4096 and var size ? size : throw Incomplete(source, "VMCOREINFO has no plausible SIZE(mem_section)");
        _sectionMemMapOffset = info.Offset("mem_section", "section_mem_map") ?? 0;
        _roots = info.Length("mem_section") is > 0 and <= 1 << 24 and var roots ? roots : throw Incomplete(source, "VMCOREINFO has no plausible LENGTH(mem_section)");
        _sectionsPerRoot = (ulong)pageSize / _sectionSize; // SPARSEMEM_EXTREME: one page of sections per root
    }

    /// <summary>Kernel virtual address of the struct page of <paramref name="pfn"/>; null when no memory map covers it.</summary>
    public ulong? PageStruct(ulong pfn)
    {
        if (!_hasSections)
        {
            return _vmemmap!.Value + pfn * _pageStructSize;
        }
        var sectionNumber = pfn >> _pfnSectionShift;
        if (!_sections.TryGetValue(sectionNumber, out var coded))
        {
            coded = DecodeSection(sectionNumber);
            _sections[sectionNumber] = coded;
        }
        if (coded is not { } c)
        {
            return null;
        }
        // The kernel stores mem_map minus the section's first PFN, in struct page units; with VMEMMAP that is vmemmap itself.
        return _vmemmap is { } vmemmap ? vmemmap + pfn * _pageStructSize : unchecked(c + pfn * _pageStructSize);
    }

    /// <summary>
    /// The frame after the last section with a memory map, below <paramref name="maxPfn"/>; null when sections cannot
    /// be decoded. makedumpfile clips max_mapnr there ("Linux uses less memory than is dumped"), which leaves out
    /// memory the kernel never managed, such as QEMU's BIOS ROM below 4 GiB.
    /// </summary>
    public ulong? MemoryMapEnd(ulong maxPfn)
    {
        if (!_hasSections || maxPfn == 0)
        {
            return null;
        }
        for (var section = (maxPfn - 1) >> _pfnSectionShift; ; section--)
        {
            if (PageStruct(section << _pfnSectionShift) is not null)
            {
                return Math.Min(maxPfn, (section + 1) << _pfnSectionShift);
            }
            if (section == 0)
            {
                return null;
            }
        }
    }

    private ulong? DecodeSection(ulong sectionNumber)
    {
        var root = sectionNumber / _sectionsPerRoot;
        if (root >= _roots)
        {
            return null;
        }
        Span<byte> word = stackalloc byte[8];
        if (!_view.TryRead(_rootArray + root * 8, word))
        {
            return null;
        }
        var rootTable = BitConverter.ToUInt64(word);
        if (rootTable == 0)
        {
            return null;
        }
        var section = rootTable + sectionNumber % _sectionsPerRoot * _sectionSize + _sectionMemMapOffset;
        if (!_view.TryRead(section, word))
        {
            return null;
        }
        var map = BitConverter.ToUInt64(word);
        if ((map & SectionPresent) == 0 || (map & SectionHasMemMap) == 0)
        {
            return null;
        }
        return map & ~SectionFlagBits;
    }

    private static GuestKernelException Incomplete(string source, string reason) =>
        new(GuestKernelException.VmcoreInfoIncomplete, ErrorKind.InvalidData, source, $"{reason}, which dump levels need to find struct pages.");
}
