namespace VmDebug.Engine.VirtioTrace;

/// <summary>Parameters of Add-VirtioTraceChannel and `vmdebug trace setup`: at most one of Domain and XmlPath (neither: QEMU arguments).</summary>
public sealed record VirtioTraceSetupRequest
{
    public string? Domain { get; init; }
    public string? XmlPath { get; init; }
    public string? ConnectionUri { get; init; }
    public required int CpuCount { get; init; }
    /// <summary>Absolute path of the FIFO directory.</summary>
    public required string Directory { get; init; }
    /// <summary>Adds the trace-metadata channel, on which a guest script can send what trace-cmd needs.</summary>
    public bool Metadata { get; init; }
}
