using VmDebug;

namespace VmDebug.Engine.CrashConfiguration;

/// <summary>Inputs of Get/Enable/Disable-QemuCoreDump that concern the host.</summary>
public sealed record QemuCoreDumpOptions
{
    public string? ConfigPath { get; init; }
    /// <summary>"unlimited" or a size ("4GiB", "512M", bytes). Enable defaults to unlimited.</summary>
    public string? MaxCore { get; init; }
    /// <summary>Sets dump_guest_core; null leaves it as it is.</summary>
    public bool? IncludeGuestMemory { get; init; }
    public string? AutoDumpPath { get; init; }
    public bool? AutoDumpBypassCache { get; init; }
    /// <summary>RAM of the largest guest (from the libvirt layer), compared with max_core and systemd-coredump caps.</summary>
    public long? LargestGuestRamBytes { get; init; }
    public bool RestartDaemon { get; init; }
    public bool Force { get; init; }
    /// <summary>Active domain jobs reported by libvirt; any of them refuses the restart unless <see cref="Force"/>.</summary>
    public IReadOnlyList<ActiveDomainJob> ActiveJobs { get; init; } = [];
    /// <summary>A specific daemon process to restart (e.g. one started with its own config); null detects it.</summary>
    public int? DaemonProcessId { get; init; }
    /// <summary>The socket clients reach that daemon on (from the connection URI); a restart waits for it to answer again.</summary>
    public string? DaemonSocketPath { get; init; }
    public TimeSpan RestartTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Persistent XML of a libvirt domain whose &lt;memory dumpCore&gt; Enable/Disable set (-Domain).</summary>
    public string? DomainXml { get; init; }
    /// <summary>A domain XML file whose &lt;memory dumpCore&gt; Enable/Disable set (-XmlPath).</summary>
    public string? XmlPath { get; init; }
    public bool DomainIsRunning { get; init; }
    public HostPaths Paths { get; init; } = HostPaths.Default;
}
