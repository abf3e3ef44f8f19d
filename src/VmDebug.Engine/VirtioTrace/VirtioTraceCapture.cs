namespace VmDebug;

/// <summary>The result of Receive-VirtioTrace: per-CPU raw files and what they hold.</summary>
public sealed class VirtioTraceCapture
{
    /// <summary>The FIFO directory read.</summary>
    public required string Directory { get; init; }
    public required string OutputPath { get; init; }
    /// <summary>From the start order ("1") to the stop order ("0").</summary>
    public required TimeSpan Duration { get; init; }
    public required IReadOnlyList<VirtioTraceCpuCapture> Cpus { get; init; }
    public long Bytes => Cpus.Sum(c => c.Bytes);
    public long Pages => Cpus.Sum(c => c.Pages);
    public long Events => Cpus.Sum(c => c.Events);
    public long PagesWithLostEvents => Cpus.Sum(c => c.PagesWithLostEvents);
    /// <summary>The guest's tracefs metadata (events/, kallsyms, …) as received on trace-metadata; null when none came.</summary>
    public string? MetadataPath { get; init; }
    /// <summary>trace-cmd commands that join the raw files into OutputPath/trace.dat (empty without metadata).</summary>
    public required IReadOnlyList<string> RestoreCommands { get; init; }
    public required IReadOnlyList<string> Warnings { get; init; }
}
