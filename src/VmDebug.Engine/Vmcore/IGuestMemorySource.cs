namespace VmDebug.Engine.Vmcore;

/// <summary>A contiguous run of guest-physical memory present in a source.</summary>
public readonly record struct PhysicalRange(ulong Start, ulong Length)
{
    public ulong End => Start + Length;
}

/// <summary>An ELF note as found in a dump: name, type and descriptor bytes.</summary>
public sealed record ElfNote(string Name, uint Type, byte[] Descriptor);

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
}

/// <summary>
/// Optional for sources that know, without reading, where memory is zero (holes of a sparse file). Writers ask
/// before reading so runs of such pages cost neither I/O nor a zero scan.
/// </summary>
public interface IKnownZeroPages
{
    /// <summary>How many pages from <paramref name="pfn"/> on (at most <paramref name="maxPages"/>) are present and all zero.</summary>
    int KnownZeroPages(ulong pfn, int maxPages);
}
