namespace VmDebug.Engine.Libvirt;

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
