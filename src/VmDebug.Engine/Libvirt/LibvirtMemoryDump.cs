using VmDebug.Engine.Libvirt;

namespace VmDebug;

/// <summary>A guest memory dump libvirt wrote (virDomainCoreDumpWithFormat with VIR_DUMP_MEMORY_ONLY).</summary>
public sealed class LibvirtMemoryDump
{
    public LibvirtMemoryDump(string domain, string path, LibvirtDumpFormat format, long sizeBytes, long guestRamBytes, TimeSpan duration)
    {
        Domain = domain;
        Path = path;
        Format = format;
        SizeBytes = sizeBytes;
        GuestRamBytes = guestRamBytes;
        Duration = duration;
    }

    public string Domain { get; }
    public string Path { get; }
    public LibvirtDumpFormat Format { get; }
    public long SizeBytes { get; }
    /// <summary>Guest RAM bytes libvirt last reported for the job, or -1 if the job finished before a report.</summary>
    public long GuestRamBytes { get; }
    public TimeSpan Duration { get; }
}
