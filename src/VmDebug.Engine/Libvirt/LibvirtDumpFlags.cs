namespace VmDebug.Engine.Libvirt;

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
