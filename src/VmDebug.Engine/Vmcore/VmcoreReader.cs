namespace VmDebug.Engine.Vmcore;

/// <summary>The container a dump file uses.</summary>
public enum VmcoreFormat
{
    /// <summary>ELF64 core with PT_LOAD per physical range (/proc/vmcore, QEMU "elf", makedumpfile -E).</summary>
    Elf,

    /// <summary>Seekable compressed kdump ("KDUMP   "), as makedumpfile -c/-l/-p/-z or QEMU kdump-raw-*.</summary>
    Kdump,

    /// <summary>makedumpfile flattened stream holding a kdump file (QEMU kdump-zlib/lzo/snappy, makedumpfile -F).</summary>
    FlattenedKdump,

    /// <summary>makedumpfile flattened stream holding an ELF vmcore (makedumpfile -E -F).</summary>
    FlattenedElf,
}

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

    public void Dispose()
    {
        Bytes.Dispose();
        GC.SuppressFinalize(this);
    }
}
