namespace VmDebug.Engine.Libvirt;

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
