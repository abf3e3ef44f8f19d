namespace VmDebug.Engine.Dump;

/// <summary>What to dump, to where, in which format. Exactly one of QmpSocket and Domain is set.</summary>
public sealed record DumpRequest
{
    public string? QmpSocket { get; init; }
    public string? Domain { get; init; }
    public string ConnectionUri { get; init; } = Libvirt.LibvirtConnection.DefaultUri;
    /// <summary>The file to create, or a directory to create it in under a generated name.</summary>
    public required string Path { get; init; }

    /// <summary>Shared by the dumps of one command, so several inputs never target one file; null: Path alone.</summary>
    public DumpDestination? Destination { get; init; }
    public DumpFormat Format { get; init; } = DumpFormat.Elf;
    public bool Force { get; init; }

    /// <summary>makedumpfile's dump level (0-31); set, VmDebug writes the kdump file itself from QEMU's ELF.</summary>
    public int? DumpLevel { get; init; }

    /// <summary>Limit for the whole dump (QEMU writing plus repair); null waits as long as it takes.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>How long QEMU may report no progress before the dump fails as stalled.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromMinutes(1);
}
