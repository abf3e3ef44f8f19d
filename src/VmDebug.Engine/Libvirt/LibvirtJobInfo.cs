namespace VmDebug.Engine.Libvirt;

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
