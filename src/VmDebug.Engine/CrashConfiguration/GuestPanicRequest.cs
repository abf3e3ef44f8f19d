
namespace VmDebug.Engine.CrashConfiguration;

/// <summary>Parameters of Set-/Get-GuestPanicDevice and `vmdebug panic-device set|show`. Exactly one of Domain and XmlPath.</summary>
public sealed record GuestPanicRequest
{
    /// <summary>A libvirt domain: its persistent definition is read and redefined.</summary>
    public string? Domain { get; init; }
    /// <summary>A domain XML file edited offline; libvirt is not contacted.</summary>
    public string? XmlPath { get; init; }
    /// <summary>libvirt URI; null means qemu:///system.</summary>
    public string? ConnectionUri { get; init; }
    /// <summary>Null leaves the panic device as it is; Auto adds one only when the domain has none.</summary>
    public GuestPanicModel? Model { get; init; }
    /// <summary>Null leaves &lt;on_crash&gt; as it is.</summary>
    public CrashAction? OnCrash { get; init; }
    /// <summary>Null leaves &lt;vmcoreinfo&gt; as it is.</summary>
    public bool? VmcoreInfo { get; init; }
    /// <summary>qemu.conf; null means /etc/libvirt/qemu.conf.</summary>
    public string? ConfigPath { get; init; }
    public string? AutoDumpPath { get; init; }
    public bool? BypassCache { get; init; }
    public HostPaths Paths { get; init; } = HostPaths.Default;
}
