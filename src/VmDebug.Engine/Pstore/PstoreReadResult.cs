namespace VmDebug.Engine.Pstore;

/// <summary>The records read, the layout they were read with and where it came from, and what could not be read.</summary>
public sealed class PstoreReadResult
{
    public required string Source { get; init; }
    public required PstoreLayout Layout { get; init; }

    /// <summary>"parameters", "command line", or "parameters and command line".</summary>
    public required string LayoutFrom { get; init; }

    public required IReadOnlyList<VmDebug.PstoreRecord> Records { get; init; }
    public required IReadOnlyList<string> Warnings { get; init; }
}
