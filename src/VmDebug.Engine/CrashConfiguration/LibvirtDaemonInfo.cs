namespace VmDebug;

/// <summary>The libvirt daemon that runs QEMU guests on this host, and how the host would restart it.</summary>
public sealed class LibvirtDaemonInfo
{
    /// <summary>libvirtd (monolithic) or virtqemud (modular).</summary>
    public required string Name { get; init; }
    public required bool Modular { get; init; }
    /// <summary>Null when the daemon is not running.</summary>
    public int? ProcessId { get; init; }
    public DateTime? StartedAt { get; init; }
    public string? Socket { get; init; }
    /// <summary>Systemd, SysV or Process (signal it and start the same command line again).</summary>
    public required string ServiceManager { get; init; }
    /// <summary>The command a restart runs; empty for a Process restart.</summary>
    public required IReadOnlyList<string> RestartCommand { get; init; }

    public override string ToString() => $"{Name} ({(ProcessId is { } pid ? $"PID {pid}" : "not running")}, {ServiceManager})";
}
