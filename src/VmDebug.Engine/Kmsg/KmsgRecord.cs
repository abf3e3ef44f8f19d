using System.Globalization;
using System.Text;

namespace VmDebug;

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
