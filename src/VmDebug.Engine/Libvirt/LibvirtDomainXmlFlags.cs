namespace VmDebug.Engine.Libvirt;

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
