namespace VmDebug.Engine.Libvirt;

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
