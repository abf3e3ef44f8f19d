using VmDebug.Engine.Compression;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.PageFilter;

/// <summary>A source seen only below a guest-physical address: what a dump level writes when the kernel's memory map ends earlier.</summary>
internal sealed class ClippedSource : IGuestMemorySource, IKnownZeroPages, IStoredPages
{
    private readonly IGuestMemorySource _inner;
    private readonly ulong _endPfn;

    public ClippedSource(IGuestMemorySource inner, ulong endPfn)
    {
        _inner = inner;
        _endPfn = endPfn;
        var end = endPfn * (ulong)inner.PageSize;
        Ranges = inner.Ranges.Where(r => r.Start < end).Select(r => r.End <= end ? r : new PhysicalRange(r.Start, end - r.Start)).ToArray();
    }

    public int PageSize => _inner.PageSize;

    public IReadOnlyList<PhysicalRange> Ranges { get; }

    public IReadOnlyList<ElfNote> Notes => _inner.Notes;

    public bool ReadPage(ulong pfn, Span<byte> page)
    {
        if (pfn >= _endPfn)
        {
            page[..PageSize].Clear();
            return false;
        }
        return _inner.ReadPage(pfn, page);
    }

    public void ReadPages(ulong firstPfn, int count, Span<byte> pages, Span<bool> present)
    {
        var inside = firstPfn >= _endPfn ? 0 : (int)Math.Min((ulong)count, _endPfn - firstPfn);
        if (inside > 0)
        {
            _inner.ReadPages(firstPfn, inside, pages, present);
        }
        pages[(inside * PageSize)..(count * PageSize)].Clear();
        present[inside..count].Clear();
    }

    public int KnownZeroPages(ulong pfn, int maxPages) =>
        _inner is IKnownZeroPages zeros && pfn < _endPfn ? zeros.KnownZeroPages(pfn, (int)Math.Min((ulong)maxPages, _endPfn - pfn)) : 0;

    public PageCompression StoredCompression => _inner is IStoredPages stored ? stored.StoredCompression : PageCompression.None;

    public int ReadStored(ulong pfn, Span<byte> destination, out bool compressed)
    {
        compressed = false;
        return _inner is IStoredPages stored && pfn < _endPfn ? stored.ReadStored(pfn, destination, out compressed) : -1;
    }

    // The inner source belongs to the caller.
    public void Dispose()
    {
    }
}
