namespace VmDebug.Engine.Libvirt;

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
