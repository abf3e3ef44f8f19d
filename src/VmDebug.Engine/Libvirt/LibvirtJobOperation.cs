namespace VmDebug.Engine.Libvirt;

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
