using VmDebug.Engine.Compression;

namespace VmDebug.Engine.Vmcore;

public sealed record KdumpWriteOptions
{
    public PageCompression Compression { get; init; } = PageCompression.Zlib;
    public ZeroPagePolicy ZeroPages { get; init; } = ZeroPagePolicy.Share;

    /// <summary>Pages left out whatever their contents (classified by dump level); null keeps every page.</summary>
    public PfnBitmap? ExcludedPages { get; init; }

    /// <summary>The dump level recorded in the sub-header.</summary>
    public int DumpLevel { get; init; }

    /// <summary>Batches compressed at once; defaults to the processor count.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;
}
