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
