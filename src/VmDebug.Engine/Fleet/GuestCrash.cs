namespace VmDebug;

/// <summary>
/// One archived crash: a folder <c>ARCHIVE/&lt;guest&gt;/&lt;UTC yyyyMMddTHHmmssZ&gt;/</c> and its crash.json (schemaVersion 1).
/// Written by Watch-GuestPanic as each capture completes, read back by Get-GuestCrash.
/// </summary>
public sealed class GuestCrash
{
    public int SchemaVersion { get; init; } = 1;

    /// <summary>The guest's name: libvirt domain, QEMU -name, or the QMP socket's name.</summary>
    public required string Guest { get; init; }

    /// <summary>The host that captured it.</summary>
    public required string Host { get; init; }

    /// <summary>Panicked (GUEST_PANICKED, libvirt CRASHED/PANICKED) or CrashLoaded.</summary>
    public required string PanicKind { get; init; }

    /// <summary>When the panic was seen, by the host clock, in UTC.</summary>
    public required DateTimeOffset PanicTime { get; init; }

    /// <summary>From the panic to the complete archive folder.</summary>
    public required double CaptureSeconds { get; init; }

    public string? QemuVersion { get; init; }

    /// <summary>VMCOREINFO OSRELEASE.</summary>
    public string? KernelRelease { get; init; }

    /// <summary>VMCOREINFO BUILD-ID.</summary>
    public string? BuildId { get; init; }

    /// <summary>The text after "Kernel panic - not syncing: " in the dump's log.</summary>
    public string? PanicMessage { get; init; }

    /// <summary>"comm (pid N, CPU n)" from the oops' task line.</summary>
    public string? CrashingTask { get; init; }

    /// <summary>The dump's file name inside the crash folder.</summary>
    public required string DumpFile { get; init; }

    public required DumpFormat DumpFormat { get; init; }

    public required int DumpLevel { get; init; }

    public required long DumpBytes { get; init; }

    public required ulong GuestRamBytes { get; init; }

    /// <summary>The matching vmlinux relative to the archive root (.build-id/&lt;id&gt;/vmlinux), or null when not fetched.</summary>
    public string? Vmlinux { get; init; }

    /// <summary>Later crashes of this guest not dumped because it crashed too often within the window.</summary>
    public int SuppressedCrashes { get; init; }

    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>The crash folder (full path); Remove-GuestCrash takes it.</summary>
    public required string Path { get; init; }

    /// <summary>The archive root the folder belongs to.</summary>
    public required string ArchivePath { get; init; }

    public override string ToString() => $"{Guest} {PanicTime:yyyy-MM-ddTHH:mm:ssZ} {PanicMessage}";
}
