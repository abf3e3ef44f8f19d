namespace VmDebug.Engine.Vmcore;

/// <summary>
/// The one view every vmcore reader produces and every writer consumes: guest-physical pages plus notes.
/// ELF vmcores, flattened and seekable kdump files and QEMU process cores all become this.
/// </summary>
public interface IGuestMemorySource : IDisposable
{
    /// <summary>Page size of the guest, normally 4096.</summary>
    int PageSize { get; }

    /// <summary>Sorted, non-overlapping guest-physical ranges the source describes (pages in them may still be absent).</summary>
    IReadOnlyList<PhysicalRange> Ranges { get; }

    /// <summary>Notes carried by the source (NT_PRSTATUS, QEMU CPU state, VMCOREINFO...).</summary>
    IReadOnlyList<ElfNote> Notes { get; }

    /// <summary>
    /// Reads the page with frame number <paramref name="pfn"/> into <paramref name="page"/> (PageSize bytes).
    /// Returns false when the page is not in the dump (excluded, or outside every range); the buffer is then zero-filled.
    /// Must be safe to call from several threads at once (writers compress in parallel).
    /// </summary>
    bool ReadPage(ulong pfn, Span<byte> page);

    /// <summary>
    /// Reads the <paramref name="count"/> pages from <paramref name="firstPfn"/> on into <paramref name="pages"/>
    /// (count * PageSize bytes); <paramref name="present"/>[i] says whether page i is in the dump, as
    /// <see cref="ReadPage"/> would. Sources that can read a run of pages in one call override this.
    /// </summary>
    void ReadPages(ulong firstPfn, int count, Span<byte> pages, Span<bool> present)
    {
        for (var i = 0; i < count; i++)
        {
            present[i] = ReadPage(firstPfn + (ulong)i, pages.Slice(i * PageSize, PageSize));
        }
    }
}
