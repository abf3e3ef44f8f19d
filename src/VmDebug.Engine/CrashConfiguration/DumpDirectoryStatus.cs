namespace VmDebug;

/// <summary>Whether libvirt's auto-dump directory can take a guest's dump.</summary>
public sealed class DumpDirectoryStatus
{
    public required string Path { get; init; }
    public required bool Exists { get; init; }
    /// <summary>The qemu.conf user QEMU runs as.</summary>
    public required string User { get; init; }
    /// <summary>Null when the user could not be resolved.</summary>
    public bool? WritableByUser { get; init; }
    public long? FreeBytes { get; init; }
    /// <summary>Checked only when bypassing the cache: O_DIRECT open and aligned write succeeded.</summary>
    public bool? DirectIoSupported { get; init; }
    public required IReadOnlyList<string> Warnings { get; init; }
}
