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
