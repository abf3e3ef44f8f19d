namespace VmDebug;

/// <summary>What a <see cref="KmsgStreamEvent"/> reports.</summary>
public enum KmsgEventKind
{
    /// <summary>A guest connected.</summary>
    Connected,
    /// <summary>A guest's connection ended; the event carries its counters.</summary>
    Disconnected,
    /// <summary>A connection was closed at once: its CID is not allowed, or too many guests are connected.</summary>
    ConnectionRefused,
    /// <summary>Sequence numbers jumped forward: <see cref="KmsgStreamEvent.Count"/> records were missed.</summary>
    SequenceGap,
    /// <summary>Sequence numbers went back: the guest rebooted (or its forwarder restarted from the ring's start).</summary>
    SequenceReset,
    /// <summary>Bytes that are not a /dev/kmsg record were skipped.</summary>
    MalformedRecord,
}
