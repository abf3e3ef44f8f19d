namespace VmDebug;

/// <summary>The crash-related configuration of one domain: panic device, crash action, VMCOREINFO, dumpCore.</summary>
public sealed class GuestPanicConfiguration
{
    public required string Domain { get; init; }
    /// <summary>The XML file read or written (offline mode); null for a libvirt domain.</summary>
    public string? Path { get; init; }
    /// <summary>Model of the first &lt;panic&gt; device; Auto if it names none (libvirt picks by architecture); null if there is none.</summary>
    public GuestPanicModel? PanicModel { get; init; }
    /// <summary>on_crash; libvirt's default is Destroy.</summary>
    public required CrashAction OnCrash { get; init; }
    public required bool VmcoreInfo { get; init; }
    /// <summary>&lt;memory dumpCore&gt;: "on", "off", or null (qemu.conf dump_guest_core decides).</summary>
    public string? DumpCore { get; init; }
    public string? Machine { get; init; }
    public string? Arch { get; init; }
    public long? MemoryBytes { get; init; }
    /// <summary>The domain is running: the persistent definition changed, the running guest gets it at its next boot.</summary>
    public required bool TakesEffectAtNextBoot { get; init; }
    public DumpDirectoryStatus? DumpDirectory { get; init; }
    public required IReadOnlyList<string> Warnings { get; init; }
    public required IReadOnlyList<string> Changes { get; init; }
    /// <summary>Unified diff of the domain XML (and qemu.conf, when auto-dump settings change).</summary>
    public required string Diff { get; init; }
}
