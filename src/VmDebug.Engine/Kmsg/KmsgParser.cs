namespace VmDebug.Engine.Kmsg;

/// <summary>
/// Parses one /dev/kmsg record: <c>prio,seq,ts_usec,flag[,caller=..][,more];text</c> then continuation lines
/// <c> KEY=value</c> separated by '\n' (Documentation/ABI/testing/dev-kmsg). Unknown prefix fields are ignored,
/// as that document asks. Throws only <see cref="KmsgFormatException"/>.
/// </summary>
public static class KmsgParser
{
    /// <summary>Microseconds that still fit a TimeSpan.</summary>
    private const ulong MaxTimestampMicroseconds = long.MaxValue / 10;

    /// <summary>Continuation fields kept per record (the kernel sends at most SUBSYSTEM and DEVICE); more mark it truncated.</summary>
    public const int MaxFields = 64;

    public static KmsgRecord Parse(ReadOnlySpan<byte> record) => Parse(record, truncated: false, "", 0, default);

    public static KmsgRecord Parse(ReadOnlySpan<byte> record, bool truncated, string guest, long connection, DateTimeOffset received)
    {
        var headerEnd = record.IndexOf((byte)'\n');
        var header = headerEnd < 0 ? record : record[..headerEnd];
        var semicolon = header.IndexOf((byte)';');
        if (semicolon < 0)
        {
            throw new KmsgFormatException(record.IsEmpty ? "the record is empty" : "the prefix has no ';'");
        }

        var prefix = header[..semicolon];
        var text = header[(semicolon + 1)..];

        var priority = RequiredField(ref prefix, "priority");
        var sequence = RequiredField(ref prefix, "sequence");
        var timestamp = RequiredField(ref prefix, "timestamp");
        var flagField = RequiredField(ref prefix, "flag");

        var prio = (int)ParseNumber(priority, "priority", int.MaxValue);
        var seq = ParseNumber(sequence, "sequence", ulong.MaxValue);
        var usec = ParseNumber(timestamp, "timestamp", MaxTimestampMicroseconds);
        var flag = flagField.Length == 1
            ? flagField[0] switch
            {
                (byte)'-' => KmsgFlag.None,
                (byte)'c' => KmsgFlag.ContinuationStart,
                (byte)'+' => KmsgFlag.Continuation,
                _ => throw new KmsgFormatException($"the flag '{KmsgText.EscapeForDisplay(KmsgText.Decode(flagField))}' is unknown"),
            }
            : throw new KmsgFormatException("the flag field is not one character");

        string? caller = null;
        while (!prefix.IsEmpty)
        {
            var extra = NextField(ref prefix);
            if (extra.StartsWith("caller="u8))
            {
                // An identifier such as T123 or C0: control characters have no business there, so they are defused here.
                caller = KmsgText.EscapeForDisplay(KmsgText.Decode(extra["caller=".Length..]));
            }
        }

        Dictionary<string, string>? fields = null;
        var rest = headerEnd < 0 ? ReadOnlySpan<byte>.Empty : record[(headerEnd + 1)..];
        while (!rest.IsEmpty)
        {
            var lineEnd = rest.IndexOf((byte)'\n');
            var line = lineEnd < 0 ? rest : rest[..lineEnd];
            rest = lineEnd < 0 ? ReadOnlySpan<byte>.Empty : rest[(lineEnd + 1)..];
            if (truncated && lineEnd < 0 && line.IndexOf((byte)'=') <= 1)
            {
                // The cut fell inside the last continuation line's key: nothing of it is usable.
                break;
            }

            if (line.IsEmpty || line[0] != (byte)' ')
            {
                throw new KmsgFormatException("a continuation line does not start with a space");
            }

            var equals = line.IndexOf((byte)'=');
            if (equals <= 1)
            {
                throw new KmsgFormatException(equals < 0 ? "a continuation line has no '='" : "a continuation line has an empty key");
            }

            fields ??= new Dictionary<string, string>(StringComparer.Ordinal);
            var key = KmsgText.Unescape(line[1..equals]);
            if (fields.Count >= MaxFields && !fields.ContainsKey(key))
            {
                truncated = true;
                continue;
            }

            fields[key] = KmsgText.Unescape(line[(equals + 1)..]);
        }

        return new KmsgRecord(
            seq,
            TimeSpan.FromTicks((long)usec * 10),
            (KmsgLevel)(prio & 7),
            (KmsgFacility)(prio >> 3),
            flag,
            KmsgText.Unescape(text),
            KmsgText.Decode(text),
            fields,
            caller,
            truncated,
            guest,
            connection,
            received);
    }

    private static ReadOnlySpan<byte> RequiredField(ref ReadOnlySpan<byte> prefix, string name) =>
        prefix.IsEmpty ? throw new KmsgFormatException($"the {name} field is missing") : NextField(ref prefix);

    private static ReadOnlySpan<byte> NextField(ref ReadOnlySpan<byte> prefix)
    {
        var comma = prefix.IndexOf((byte)',');
        ReadOnlySpan<byte> field;
        if (comma < 0)
        {
            field = prefix;
            prefix = ReadOnlySpan<byte>.Empty;
        }
        else
        {
            field = prefix[..comma];
            prefix = prefix[(comma + 1)..];
        }

        return field;
    }

    private static ulong ParseNumber(ReadOnlySpan<byte> digits, string name, ulong max)
    {
        if (digits.IsEmpty)
        {
            throw new KmsgFormatException($"the {name} field is empty");
        }

        ulong value = 0;
        foreach (var d in digits)
        {
            var digit = (uint)(d - '0');
            if (digit > 9)
            {
                throw new KmsgFormatException($"the {name} field is not a decimal number");
            }

            if (value > (max - digit) / 10)
            {
                throw new KmsgFormatException($"the {name} field is larger than {max}");
            }

            value = value * 10 + digit;
        }

        return value;
    }
}
