using VmDebug.Engine.Libvirt;

namespace VmDebug.Engine.CrashConfiguration;

/// <summary>Parameters of Get-/Enable-/Disable-QemuCoreDump and `vmdebug coredump show|enable|disable`.</summary>
public sealed record CoreDumpRequest
{
    /// <summary>qemu.conf; null means /etc/libvirt/qemu.conf.</summary>
    public string? ConfigPath { get; init; }
    /// <summary>Enable: "unlimited" (the default) or a size with units.</summary>
    public string? MaxCore { get; init; }
    /// <summary>Enable: sets dump_guest_core; null leaves it as it is.</summary>
    public bool? IncludeGuestMemory { get; init; }
    /// <summary>A libvirt domain whose persistent &lt;memory dumpCore&gt; is set (Enable) or removed (Disable).</summary>
    public string? Domain { get; init; }
    /// <summary>A domain XML file edited offline instead; libvirt is not contacted for it.</summary>
    public string? XmlPath { get; init; }
    /// <summary>libvirt URI; null means qemu:///system.</summary>
    public string? ConnectionUri { get; init; }
    public bool RestartDaemon { get; init; }
    /// <summary>Restart even while domains have active jobs.</summary>
    public bool Force { get; init; }
    public TimeSpan RestartTimeout { get; init; } = TimeSpan.FromSeconds(60);
    public HostPaths Paths { get; init; } = HostPaths.Default;
}
