using VmDebug.Engine.Libvirt;

namespace VmDebug;

/// <summary>A libvirt lifecycle event of one domain, as delivered by virConnectDomainEventRegisterAny.</summary>
public sealed class DomainLifecycleEvent
{
    public DomainLifecycleEvent(string domain, Guid uuid, LibvirtLifecycleEventType @event, int detail, DateTimeOffset timestamp)
    {
        Domain = domain;
        Uuid = uuid;
        Event = @event;
        Detail = detail;
        DetailName = LibvirtEventDetails.Name(@event, detail);
        Timestamp = timestamp;
    }

    public string Domain { get; }
    public Guid Uuid { get; }
    public LibvirtLifecycleEventType Event { get; }
    /// <summary>libvirt's detail number; its meaning depends on <see cref="Event"/>.</summary>
    public int Detail { get; }
    /// <summary>The detail as a name, e.g. "Panicked" for Crashed/0, "Destroyed" for Stopped/1.</summary>
    public string DetailName { get; }
    /// <summary>When VmDebug received the event (libvirt does not timestamp lifecycle events).</summary>
    public DateTimeOffset Timestamp { get; }

    /// <summary>True for a guest panic reported through a panic device (CRASHED/PANICKED).</summary>
    public bool IsPanic => Event == LibvirtLifecycleEventType.Crashed && Detail == 0;

    public override string ToString() => $"{Domain}: {Event}/{DetailName}";
}

/// <summary>A domain with a libvirt job in progress (dump, save, migration...).</summary>
public sealed class LibvirtActiveJob
{
    public LibvirtActiveJob(string domain, LibvirtJobType jobType, TimeSpan elapsed, LibvirtJobOperation operation = LibvirtJobOperation.Unknown)
    {
        Domain = domain;
        JobType = jobType;
        Elapsed = elapsed;
        Operation = operation;
    }

    public string Domain { get; }
    public LibvirtJobType JobType { get; }
    public TimeSpan Elapsed { get; }
    /// <summary>What the job does (dump, migration...), when libvirt says.</summary>
    public LibvirtJobOperation Operation { get; }

    public override string ToString() => $"{Domain}: {Operation} job ({JobType}) for {Elapsed.TotalSeconds:0.0} s";
}

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
