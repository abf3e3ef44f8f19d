using VmDebug.Engine.Dump;

namespace VmDebug.Engine.ProcessCore;

/// <summary>What to extract from a QEMU process core, to where, in which format.</summary>
public sealed record ProcessCoreDumpRequest
{
    /// <summary>The QEMU process core: ELF, or compressed whole with zstd, lz4 (frame format) or xz as systemd-coredump stores it.</summary>
    public required string CoreFile { get; init; }

    /// <summary>The vmcore to create, or a directory to create it in under a generated name.</summary>
    public required string Path { get; init; }

    /// <summary>Shared by the dumps of one command, so several inputs never target one file; null: Path alone.</summary>
    public DumpDestination? Destination { get; init; }

    public DumpFormat Format { get; init; } = DumpFormat.Elf;
    public bool Force { get; init; }

    /// <summary>makedumpfile's dump level (0-31) for a kdump format, pages classified from the guest's struct pages; null: every page.</summary>
    public int? DumpLevel { get; init; }

    /// <summary>Overrides the layout derived from QEMU's command line: "q35", "pc", explicit ranges, optionally ",ram=0xADDR".</summary>
    public string? GuestMemoryLayout { get; init; }
}
