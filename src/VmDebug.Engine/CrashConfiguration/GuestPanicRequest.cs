using VmDebug.Engine.Libvirt;

namespace VmDebug.Engine.CrashConfiguration;

/// <summary>
/// Parameters of Set-/Get-GuestPanicDevice and `vmdebug panic-device set|show`: exactly one of Domain and XmlPath.
/// The internal members are the facts <see cref="GuestPanicCommands"/> gathers from libvirt before planning.
/// </summary>
public sealed record GuestPanicRequest
{
    /// <summary>A libvirt domain: its persistent definition is read and redefined.</summary>
    public string? Domain { get; init; }
    /// <summary>A domain XML file edited offline; libvirt is not contacted.</summary>
    public string? XmlPath { get; init; }
    /// <summary>libvirt URI; null means <see cref="LibvirtConnection.DefaultUri"/>.</summary>
    public string? ConnectionUri { get; init; }
    /// <summary>Null leaves the panic device as it is; Auto adds one only when the domain has none.</summary>
    public GuestPanicModel? Model { get; init; }
    /// <summary>Null leaves &lt;on_crash&gt; as it is.</summary>
    public CrashAction? OnCrash { get; init; }
    /// <summary>Null leaves &lt;vmcoreinfo&gt; as it is.</summary>
    public bool? VmcoreInfo { get; init; }
    /// <summary>qemu.conf; null means <see cref="HostPaths.QemuConf"/>.</summary>
    public string? ConfigPath { get; init; }
    /// <summary>Written to qemu.conf auto_dump_path.</summary>
    public string? AutoDumpPath { get; init; }
    /// <summary>Written to qemu.conf auto_dump_bypass_cache.</summary>
    public bool? BypassCache { get; init; }
    public HostPaths Paths { get; init; } = HostPaths.Default;

    /// <summary>&lt;memory dumpCore&gt;, edited with the panic settings in one plan; null leaves it.</summary>
    internal DumpCoreEdit? DumpCore { get; init; }
    /// <summary>Persistent XML of <see cref="Domain"/>, fetched from libvirt.</summary>
    internal string? DomainXml { get; init; }
    /// <summary>The domain runs, so changes wait for its next boot.</summary>
    internal bool DomainIsRunning { get; init; }
    /// <summary>From virConnectGetLibVersion; null when unknown (offline).</summary>
    internal Version? LibvirtVersion { get; init; }
}
