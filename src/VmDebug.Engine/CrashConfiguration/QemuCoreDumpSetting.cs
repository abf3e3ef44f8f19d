namespace VmDebug;

/// <summary>systemd-coredump's effective [Coredump] caps (coredump.conf and its drop-ins).</summary>
public sealed class SystemdCoredumpLimits
{
    /// <summary>none, external or journal.</summary>
    public required string Storage { get; init; }
    public required long ProcessSizeMax { get; init; }
    public required long ExternalSizeMax { get; init; }
    /// <summary>Null when unset (systemd then uses 10% of the file system).</summary>
    public long? MaxUse { get; init; }
    public required IReadOnlyList<string> ConfigFiles { get; init; }
}

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

/// <summary>Effective QEMU core-dump settings of the host, where cores go, and what is still missing.</summary>
public sealed class QemuCoreDumpSetting
{
    public required string ConfigPath { get; init; }
    /// <summary>"unlimited", or the byte count as written; "0" (libvirt's default) means no cores.</summary>
    public required string MaxCore { get; init; }
    /// <summary>Null for unlimited.</summary>
    public long? MaxCoreBytes { get; init; }
    /// <summary>qemu.conf dump_guest_core: guest RAM included in QEMU process cores.</summary>
    public required bool IncludeGuestMemory { get; init; }
    public required string AutoDumpPath { get; init; }
    public required bool AutoDumpBypassCache { get; init; }
    /// <summary>qemu.conf user and group QEMU runs as (effective, defaults resolved).</summary>
    public required string User { get; init; }
    public required string Group { get; init; }
    /// <summary>The running daemon predates the config: a restart is needed before new guests see it.</summary>
    public required bool RestartNeeded { get; init; }
    public LibvirtDaemonInfo? Daemon { get; init; }
    public string? CorePattern { get; init; }
    public required bool HandledBySystemdCoredump { get; init; }
    public SystemdCoredumpLimits? SystemdCoredumpLimits { get; init; }
    public long? LargestGuestRamBytes { get; init; }
    public required IReadOnlyList<string> Warnings { get; init; }
    /// <summary>Human-readable summary of each change made or planned (empty for Get).</summary>
    public required IReadOnlyList<string> Changes { get; init; }
    /// <summary>Unified diff of qemu.conf (and domain XML, if edited); empty when nothing changes.</summary>
    public required string Diff { get; init; }
    /// <summary>Path of the qemu.conf backup written by Apply; null if nothing was written.</summary>
    public string? BackupPath { get; init; }
}
