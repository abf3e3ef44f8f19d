using System.Globalization;
using System.Text;

namespace VmDebug;

/// <summary>Kernel log level, named as <c>dmesg --level</c> names them; lower is more severe.</summary>
public enum KmsgLevel
{
    Emerg = 0,
    Alert = 1,
    Crit = 2,
    Err = 3,
    Warn = 4,
    Notice = 5,
    Info = 6,
    Debug = 7,
}

/// <summary>Syslog facility of a record (prio &gt;&gt; 3). Kernel messages are <see cref="Kern"/>; values above 23 stay numeric.</summary>
public enum KmsgFacility
{
    Kern = 0, User, Mail, Daemon, Auth, Syslog, Lpr, News, Uucp, Cron, AuthPriv, Ftp,
    Local0 = 16, Local1, Local2, Local3, Local4, Local5, Local6, Local7,
}

/// <summary>The flag field of a /dev/kmsg record.</summary>
public enum KmsgFlag
{
    /// <summary>'-': a complete record.</summary>
    None,
    /// <summary>'c': the first fragment of a continued line.</summary>
    ContinuationStart,
    /// <summary>'+': a fragment continuing the previous record.</summary>
    Continuation,
}

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

/// <summary>One item of a kmsg stream: a <see cref="KmsgRecord"/> or a <see cref="KmsgStreamEvent"/>.</summary>
public abstract class KmsgItem
{
    private protected KmsgItem(string guest, long connection, DateTimeOffset received)
    {
        Guest = guest;
        Connection = connection;
        Received = received;
    }

    /// <summary>
    /// Who sent it: the vsock CID in decimal, the socket path for hybrid vsock and chardev sockets, or the libvirt
    /// domain's name when the source was resolved from a domain.
    /// </summary>
    public string Guest { get; }

    /// <summary>Number of the connection within this stream (1, 2, ...), distinguishing reconnects of one guest.</summary>
    public long Connection { get; }

    /// <summary>When the host received it.</summary>
    public DateTimeOffset Received { get; }
}

/// <summary>One /dev/kmsg record from a guest.</summary>
public sealed class KmsgRecord : KmsgItem
{
    public KmsgRecord(
        ulong sequence, TimeSpan sinceBoot, KmsgLevel level, KmsgFacility facility, KmsgFlag flags,
        string message, string? rawMessage = null, IReadOnlyDictionary<string, string>? fields = null,
        string? caller = null, bool truncated = false,
        string guest = "", long connection = 0, DateTimeOffset received = default)
        : base(guest, connection, received)
    {
        Sequence = sequence;
        SinceBoot = sinceBoot;
        Level = level;
        Facility = facility;
        Flags = flags;
        Message = message;
        _rawMessage = rawMessage;
        Fields = fields is null or { Count: 0 } ? KmsgFields.None : new KmsgFields(fields);
        Caller = caller;
        Truncated = truncated;
    }

    public ulong Sequence { get; }

    /// <summary>Time since the guest booted, from the record's microsecond timestamp.</summary>
    public TimeSpan SinceBoot { get; }

    public KmsgLevel Level { get; }

    public KmsgFacility Facility { get; }

    public KmsgFlag Flags { get; }

    /// <summary>The text with the kernel's <c>\xNN</c> escapes decoded; may contain control characters.</summary>
    public string Message { get; }

    private readonly string? _rawMessage;

    // The raw and display forms are methods, not properties: as properties, Export-Csv and Format-List * showed
    // the message three times.

    /// <summary>The text exactly as the guest sent it (escaped by the kernel).</summary>
    public string GetRawMessage() => _rawMessage ?? KmsgText.Escape(Message);

    /// <summary><see cref="Message"/> with control characters escaped, safe to print on a terminal.</summary>
    public string GetDisplayMessage() => KmsgText.EscapeForDisplay(Message);

    /// <summary>
    /// Escapes control characters (ANSI sequences included) in guest text for display. Static, so views can apply
    /// it to a deserialized record's Message too.
    /// </summary>
    public static string EscapeForDisplay(string? text) => text is null ? "" : KmsgText.EscapeForDisplay(text);

    /// <summary>Continuation lines (<c> KEY=value</c>), e.g. SUBSYSTEM and DEVICE, values decoded.</summary>
    public KmsgFields Fields { get; }

    /// <summary>The <c>caller=</c> prefix field (T&lt;thread&gt; or C&lt;cpu&gt;), or null.</summary>
    public string? Caller { get; }

    /// <summary>True when the record exceeded the maximum record length and was cut.</summary>
    public bool Truncated { get; }

    /// <summary>The record in /dev/kmsg format (prefix, escaped text, continuation lines), ending with a newline.</summary>
    public string ToKmsgLine()
    {
        var line = new StringBuilder(Message.Length + 40);
        line.Append(CultureInfo.InvariantCulture, $"{((int)Facility << 3) | (int)Level},{Sequence},{SinceBoot.Ticks / 10},");
        line.Append(Flags switch { KmsgFlag.ContinuationStart => 'c', KmsgFlag.Continuation => '+', _ => '-' });
        if (Caller is not null)
        {
            line.Append(",caller=").Append(Caller);
        }

        line.Append(';').Append(KmsgText.Escape(Message)).Append('\n');
        foreach (var (key, value) in Fields)
        {
            line.Append(' ').Append(KmsgText.Escape(key)).Append('=').Append(KmsgText.Escape(value)).Append('\n');
        }

        return line.ToString();
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"[{SinceBoot.TotalSeconds,12:F6}] {Guest} {Level}: {GetDisplayMessage()}");
}

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
