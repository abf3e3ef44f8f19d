namespace VmDebug.Engine.Dump;

/// <summary>What to dump, to where, in which format. Exactly one of QmpSocket and Domain is set.</summary>
public sealed record DumpRequest
{
    public string? QmpSocket { get; init; }
    public string? Domain { get; init; }
    public string ConnectionUri { get; init; } = "qemu:///system";
    /// <summary>The file to create, or a directory to create it in under a generated name.</summary>
    public required string Path { get; init; }

    /// <summary>Shared by the dumps of one command, so several inputs never target one file; null: Path alone.</summary>
    public DumpDestination? Destination { get; init; }
    public DumpFormat Format { get; init; } = DumpFormat.Elf;
    public bool Force { get; init; }
}
