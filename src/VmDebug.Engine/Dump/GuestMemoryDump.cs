namespace VmDebug;

/// <summary>A finished guest memory dump: the file, what it holds, and what VmDebug repaired on the way.</summary>
public sealed class GuestMemoryDump
{
    public required string Path { get; init; }
    public required DumpFormat Format { get; init; }
    public required DumpSource Source { get; init; }

    /// <summary>The domain name (libvirt), QMP socket or process core the dump came from.</summary>
    public required string Target { get; init; }

    /// <summary>The libvirt domain, when dumped through libvirt; binds to -Domain of other cmdlets.</summary>
    public string? Domain { get; init; }

    public required long SizeBytes { get; init; }
    public required ulong GuestRamBytes { get; init; }
    public required TimeSpan Duration { get; init; }

    /// <summary>
    /// How long the dump kept the guest paused: over QMP, from QEMU's STOP to its RESUME event (QEMU's own clock); for
    /// a guest that was paused already, and through libvirt, the span QEMU wrote. Null when not measured.
    /// </summary>
    public TimeSpan? GuestPaused { get; init; }

    /// <summary>
    /// Disk the spool of a streamed kdump dump took at most, beside the output: the kept pages uncompressed when they
    /// were classified while the guest was paused, every non-zero page compressed otherwise; 0 when none was needed.
    /// </summary>
    public long SpoolBytes { get; init; }

    /// <summary>
    /// How long classifying the guest's pages by struct page took within <see cref="GuestPaused"/>, before QEMU's
    /// stream was read on; null when pages were classified after the guest ran again (or not at all).
    /// </summary>
    public TimeSpan? ClassifiedWhilePaused { get; init; }

    /// <summary>The guest kernel's release from VMCOREINFO OSRELEASE; null when the guest gave no VMCOREINFO.</summary>
    public string? KernelRelease { get; init; }

    /// <summary>phys_base from VMCOREINFO (decimal NUMBER(phys_base)); the value crash and makedumpfile need.</summary>
    public long? PhysBase { get; init; }

    public required IReadOnlyList<VmcoreRepair> Repairs { get; init; }

    /// <summary>Pages by makedumpfile class at the dump level written (kdump files VmDebug wrote); null for files QEMU wrote as they are.</summary>
    public GuestMemoryUsage? Pages { get; init; }

    /// <summary>The makedumpfile dump level the file was written at (0 keeps every page).</summary>
    public int DumpLevel => Pages?.DumpLevel ?? 0;
    public required IReadOnlyList<string> Warnings { get; init; }

    public override string ToString() =>
        $"{Path} ({Format}, {VmDebug.Engine.Units.FormatBytes(SizeBytes)} for {VmDebug.Engine.Units.FormatBytes((long)GuestRamBytes)} of guest RAM, "
        + $"kernel {KernelRelease ?? "unknown"}, repairs: {(Repairs.Count == 0 ? "none" : string.Join(", ", Repairs.Select(r => r.Code)))})";
}
