namespace VmDebug.Engine.Libvirt;

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
