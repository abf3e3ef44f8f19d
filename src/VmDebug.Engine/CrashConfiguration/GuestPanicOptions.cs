using System.Text;
using VmDebug;

namespace VmDebug.Engine.CrashConfiguration;

/// <summary>Inputs of Set-/Get-GuestPanicDevice. Exactly one of <see cref="DomainXml"/> and <see cref="XmlPath"/>.</summary>
public sealed record GuestPanicOptions
{
    /// <summary>The persistent definition fetched by the libvirt layer (libvirt mode).</summary>
    public string? DomainXml { get; init; }
    /// <summary>A domain XML file edited offline.</summary>
    public string? XmlPath { get; init; }
    /// <summary>Null leaves the panic device as it is (Get, or only changing other settings).</summary>
    public GuestPanicModel? Model { get; init; } = GuestPanicModel.Auto;
    public CrashAction? OnCrash { get; init; }
    public bool? VmcoreInfo { get; init; } = true;
    /// <summary>&lt;memory dumpCore&gt; (Enable/Disable-QemuCoreDump -Domain/-XmlPath); null leaves it.</summary>
    public DumpCoreEdit? DumpCore { get; init; }
    /// <summary>From the libvirt layer: the domain runs, so changes wait for its next boot.</summary>
    public bool DomainIsRunning { get; init; }
    /// <summary>From virConnectGetLibVersion; null when unknown (offline).</summary>
    public Version? LibvirtVersion { get; init; }
    public string? ConfigPath { get; init; }
    /// <summary>Written to qemu.conf auto_dump_path.</summary>
    public string? AutoDumpPath { get; init; }
    /// <summary>Written to qemu.conf auto_dump_bypass_cache.</summary>
    public bool? BypassCache { get; init; }
    public HostPaths Paths { get; init; } = HostPaths.Default;
}
