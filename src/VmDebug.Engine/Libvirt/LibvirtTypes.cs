namespace VmDebug.Engine.Libvirt;

/// <summary>virDomainCoreDumpFormat (libvirt-domain.h).</summary>
public enum LibvirtDumpFormat
{
    Raw = 0,
    KdumpZlib = 1,
    KdumpLzo = 2,
    KdumpSnappy = 3,
    WinDmp = 4,
}

/// <summary>virDomainCoreDumpFlags (libvirt-domain.h).</summary>
[Flags]
public enum LibvirtDumpFlags : uint
{
    None = 0,
    Crash = 1 << 0,
    Live = 1 << 1,
    BypassCache = 1 << 2,
    Reset = 1 << 3,
    MemoryOnly = 1 << 4,
}

/// <summary>virDomainXMLFlags (libvirt-domain.h).</summary>
[Flags]
public enum LibvirtDomainXmlFlags : uint
{
    None = 0,
    Secure = 1 << 0,
    Inactive = 1 << 1,
    UpdateCpu = 1 << 2,
    Migratable = 1 << 3,
}

/// <summary>virConnectListAllDomainsFlags (libvirt-domain.h); None lists every domain.</summary>
[Flags]
public enum LibvirtListDomainsFlags : uint
{
    None = 0,
    Active = 1 << 0,
    Inactive = 1 << 1,
    Persistent = 1 << 2,
    Transient = 1 << 3,
}

/// <summary>virDomainState (libvirt-domain.h).</summary>
public enum LibvirtDomainState
{
    NoState = 0,
    Running = 1,
    Blocked = 2,
    Paused = 3,
    Shutdown = 4,
    Shutoff = 5,
    Crashed = 6,
    PMSuspended = 7,
}

/// <summary>virDomainJobType (libvirt-domain.h).</summary>
public enum LibvirtJobType
{
    None = 0,
    Bounded = 1,
    Unbounded = 2,
    Completed = 3,
    Failed = 4,
    Cancelled = 5,
}

/// <summary>virDomainJobOperation (libvirt-domain.h, 3.3.0): what a job does, from virDomainGetJobStats "operation".</summary>
public enum LibvirtJobOperation
{
    Unknown = 0,
    Start = 1,
    Save = 2,
    Restore = 3,
    MigrationIn = 4,
    MigrationOut = 5,
    Snapshot = 6,
    SnapshotRevert = 7,
    Dump = 8,
    Backup = 9,
    SnapshotDelete = 10,
}

/// <summary>virDomainEventType (libvirt-domain.h), the event of a lifecycle callback.</summary>
public enum LibvirtLifecycleEventType
{
    Defined = 0,
    Undefined = 1,
    Started = 2,
    Suspended = 3,
    Resumed = 4,
    Stopped = 5,
    Shutdown = 6,
    PMSuspended = 7,
    Crashed = 8,
}

/// <summary>
/// virDomainJobInfo: progress of the domain's current job. Times are milliseconds, sizes bytes. For a memory-only
/// dump libvirt fills the mem* fields from QEMU's query-dump (total and completed guest RAM bytes).
/// </summary>
public readonly record struct LibvirtJobInfo(
    LibvirtJobType Type,
    ulong TimeElapsedMs,
    ulong TimeRemainingMs,
    ulong DataTotal,
    ulong DataProcessed,
    ulong DataRemaining,
    ulong MemTotal,
    ulong MemProcessed,
    ulong MemRemaining,
    ulong FileTotal,
    ulong FileProcessed,
    ulong FileRemaining)
{
    /// <summary>Bytes done and total from the data fields, else the memory fields; (0, 0) when neither is set.</summary>
    public (ulong Done, ulong Total) Progress =>
        DataTotal > 0 ? (DataProcessed, DataTotal) : MemTotal > 0 ? (MemProcessed, MemTotal) : (0, 0);
}

internal static class LibvirtEventDetails
{
    // virDomainEvent*DetailType enums (libvirt-domain.h), indexed by detail value.
    private static readonly string[] Defined = ["Added", "Updated", "Renamed", "FromSnapshot"];
    private static readonly string[] Undefined = ["Removed", "Renamed"];
    private static readonly string[] Started = ["Booted", "Migrated", "Restored", "FromSnapshot", "Wakeup"];
    private static readonly string[] Suspended =
        ["Paused", "Migrated", "IoError", "Watchdog", "Restored", "FromSnapshot", "ApiError", "PostCopy", "PostCopyFailed"];
    private static readonly string[] Resumed = ["Unpaused", "Migrated", "FromSnapshot", "PostCopy", "PostCopyFailed"];
    private static readonly string[] Stopped = ["Shutdown", "Destroyed", "Crashed", "Migrated", "Saved", "Failed", "FromSnapshot"];
    private static readonly string[] Shutdown = ["Finished", "Guest", "Host"];
    private static readonly string[] PMSuspended = ["Memory", "Disk"];
    private static readonly string[] Crashed = ["Panicked", "CrashLoaded"];

    internal static string Name(LibvirtLifecycleEventType type, int detail)
    {
        var names = type switch
        {
            LibvirtLifecycleEventType.Defined => Defined,
            LibvirtLifecycleEventType.Undefined => Undefined,
            LibvirtLifecycleEventType.Started => Started,
            LibvirtLifecycleEventType.Suspended => Suspended,
            LibvirtLifecycleEventType.Resumed => Resumed,
            LibvirtLifecycleEventType.Stopped => Stopped,
            LibvirtLifecycleEventType.Shutdown => Shutdown,
            LibvirtLifecycleEventType.PMSuspended => PMSuspended,
            LibvirtLifecycleEventType.Crashed => Crashed,
            _ => [],
        };
        return detail >= 0 && detail < names.Length ? names[detail] : detail.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
