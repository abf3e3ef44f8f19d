namespace VmDebug;

/// <summary>What one CPU's channel delivered, counted from the ring-buffer page headers.</summary>
public sealed class VirtioTraceCpuCapture
{
    public required int Cpu { get; init; }
    /// <summary>The raw file (trace_pipe_raw pages), one of trace-cmd restore's inputs.</summary>
    public required string Path { get; init; }
    public required long Bytes { get; init; }
    public required long Pages { get; init; }
    /// <summary>Data events (type_len 0 to 28), what trace-cmd report lists; padding and time records excluded.</summary>
    public required long Events { get; init; }
    /// <summary>Pages whose commit field says events were overwritten before them (RB_MISSED_EVENTS).</summary>
    public required long PagesWithLostEvents { get; init; }
    /// <summary>Lost events the kernel counted on those pages (RB_MISSED_STORED); 0 when it stored none.</summary>
    public required long LostEvents { get; init; }
    /// <summary>Pages whose lengths did not fit: counted as far as they were sound.</summary>
    public required long MalformedPages { get; init; }
    /// <summary>Bytes after the last whole page (a guest cut off mid-page).</summary>
    public required int TrailingBytes { get; init; }
}
