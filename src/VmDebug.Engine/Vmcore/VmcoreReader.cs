namespace VmDebug.Engine.Vmcore;

/// <summary>A dump opened by <see cref="VmcoreFile.Open"/>: guest memory plus what the container says about it.</summary>
public abstract class VmcoreReader : IGuestMemorySource
{
    private readonly Lazy<VmcoreInfo?> _vmcoreInfo;

    private protected VmcoreReader(DumpByteSource bytes, VmcoreFormat format)
    {
        Bytes = bytes;
        Format = format;
        _vmcoreInfo = new Lazy<VmcoreInfo?>(() => VmcoreInfo.FromNotes(Notes));
    }

    public string Path => Bytes.Path;

    public VmcoreFormat Format { get; }

    /// <summary>The parsed VMCOREINFO, or null when the dump carries none.</summary>
    public VmcoreInfo? VmcoreInfo => _vmcoreInfo.Value;

    internal DumpByteSource Bytes { get; }

    public abstract int PageSize { get; }

    public abstract IReadOnlyList<PhysicalRange> Ranges { get; }

    public abstract IReadOnlyList<ElfNote> Notes { get; }

    public abstract bool ReadPage(ulong pfn, Span<byte> page);

    public virtual void ReadPages(ulong firstPfn, int count, Span<byte> pages, Span<bool> present)
    {
        for (var i = 0; i < count; i++)
        {
            present[i] = ReadPage(firstPfn + (ulong)i, pages.Slice(i * PageSize, PageSize));
        }
    }

    public void Dispose()
    {
        Bytes.Dispose();
        GC.SuppressFinalize(this);
    }
}
