namespace VmDebug.Engine.VirtioTrace;

/// <summary>Parameters of Receive-VirtioTrace and `vmdebug trace receive`.</summary>
public sealed record VirtioTraceReceiveRequest
{
    /// <summary>The FIFO directory made by Add-VirtioTraceChannel.</summary>
    public required string Directory { get; init; }
    /// <summary>Where the raw per-CPU files go; created (0700) when missing; existing files are never replaced.</summary>
    public required string OutputPath { get; init; }
    /// <summary>Null: until cancelled (Ctrl+C).</summary>
    public TimeSpan? Duration { get; init; }
    /// <summary>After the stop order, a channel is done once it has been quiet this long.</summary>
    public TimeSpan DrainQuiet { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>Upper bound on the whole drain after the stop order (a guest that keeps writing is cut off).</summary>
    public TimeSpan DrainLimit { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Bound on the metadata archive a guest may send (kallsyms and event formats are a few MiB).</summary>
    public long MaxMetadataBytes { get; init; } = 256L << 20;
    public int PageSize { get; init; } = RingBufferPageCounter.DefaultPageSize;
}
