using VmDebug.Engine.Libvirt;

namespace VmDebug.Engine.CrashConfiguration;

/// <summary>
/// Parameters of Get-/Enable-/Disable-QemuCoreDump and `vmdebug coredump show|enable|disable`. The internal members
/// are the facts <see cref="CoreDumpCommands"/> gathers from libvirt and the host before planning.
/// </summary>
public sealed record CoreDumpRequest
{
    /// <summary>qemu.conf; null means <see cref="HostPaths.QemuConf"/>.</summary>
    public string? ConfigPath { get; init; }
    /// <summary>Enable: "unlimited" (the default) or a size with units ("4GiB", "512M", bytes).</summary>
    public string? MaxCore { get; init; }
    /// <summary>Enable: sets dump_guest_core; null leaves it as it is.</summary>
    public bool? IncludeGuestMemory { get; init; }
    /// <summary>A libvirt domain whose persistent &lt;memory dumpCore&gt; is set (Enable) or removed (Disable).</summary>
    public string? Domain { get; init; }
    /// <summary>A domain XML file edited offline instead; libvirt is not contacted for it.</summary>
    public string? XmlPath { get; init; }
    /// <summary>libvirt URI; null means <see cref="LibvirtConnection.DefaultUri"/>.</summary>
    public string? ConnectionUri { get; init; }
    public bool RestartDaemon { get; init; }
    /// <summary>Restart even while domains have active jobs.</summary>
    public bool Force { get; init; }
    public TimeSpan RestartTimeout { get; init; } = TimeSpan.FromSeconds(60);
    public HostPaths Paths { get; init; } = HostPaths.Default;

    /// <summary>Written to qemu.conf auto_dump_path (Set-GuestPanicDevice -AutoDumpPath).</summary>
    internal string? AutoDumpPath { get; init; }
    /// <summary>Written to qemu.conf auto_dump_bypass_cache (Set-GuestPanicDevice -BypassCache).</summary>
    internal bool? AutoDumpBypassCache { get; init; }
    /// <summary>RAM of the largest guest (from libvirt), compared with max_core and systemd-coredump caps.</summary>
    internal long? LargestGuestRamBytes { get; init; }
    /// <summary>Active domain jobs reported by libvirt; any of them refuses the restart unless <see cref="Force"/>.</summary>
    internal IReadOnlyList<ActiveDomainJob> ActiveJobs { get; init; } = [];
    /// <summary>A specific daemon process to restart (e.g. one started with its own config); null detects it.</summary>
    internal int? DaemonProcessId { get; init; }
    /// <summary>The socket clients reach that daemon on (from the connection URI); a restart waits for it to answer again.</summary>
    internal string? DaemonSocketPath { get; init; }
    /// <summary>Persistent XML of <see cref="Domain"/>, fetched from libvirt.</summary>
    internal string? DomainXml { get; init; }
    internal bool DomainIsRunning { get; init; }
}
