namespace VmDebug;

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
