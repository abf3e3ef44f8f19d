namespace VmDebug;

/// <summary>Something about the stream rather than a record: connections, refusals, gaps, resets, malformed input.</summary>
public sealed class KmsgStreamEvent : KmsgItem
{
    public KmsgStreamEvent(
        KmsgEventKind kind, string message, string guest, long connection, DateTimeOffset received,
        long count = 0, ulong? previousSequence = null, ulong? sequence = null,
        long bytesReceived = 0, long peakBufferedBytes = 0)
        : base(guest, connection, received)
    {
        Kind = kind;
        Message = message;
        Count = count;
        PreviousSequence = previousSequence;
        Sequence = sequence;
        BytesReceived = bytesReceived;
        PeakBufferedBytes = peakBufferedBytes;
    }

    public KmsgEventKind Kind { get; }

    /// <summary>A sentence saying what happened, control characters escaped.</summary>
    public string Message { get; }

    /// <summary>Missed records for a gap; records received for a disconnect; refusals for a refusal.</summary>
    public long Count { get; }

    /// <summary>For gaps and resets: the sequence number before the jump.</summary>
    public ulong? PreviousSequence { get; }

    /// <summary>For gaps and resets: the sequence number after the jump.</summary>
    public ulong? Sequence { get; }

    /// <summary>For a disconnect: bytes read from the connection.</summary>
    public long BytesReceived { get; }

    /// <summary>For a disconnect: the most bytes this connection had buffered at once (read buffer, framer, queue).</summary>
    public long PeakBufferedBytes { get; }

    public override string ToString() => $"{Kind} {Guest}: {Message}";
}
