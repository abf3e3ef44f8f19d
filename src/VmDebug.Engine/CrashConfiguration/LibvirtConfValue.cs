namespace VmDebug.Engine.CrashConfiguration;

/// <summary>A parsed value. <see cref="Text"/> is the value's exact source text.</summary>
public sealed record LibvirtConfValue(LibvirtConfValueKind Kind, string Text, string? String, long Integer, IReadOnlyList<LibvirtConfValue> Items)
{
    public static LibvirtConfValue FromString(string value)
    {
        // Quote choice follows libvirt's own writer: double quotes, else single, never both (no escapes exist).
        if (value.Contains('\n') || value.Contains('\r'))
        {
            throw new VmDebugException("QemuConfValueInvalid", ErrorKind.InvalidArgument,
                "A qemu.conf string value cannot contain a line break.", value);
        }

        string quoted;
        if (!value.Contains('"'))
        {
            quoted = "\"" + value + "\"";
        }
        else if (!value.Contains('\''))
        {
            quoted = "'" + value + "'";
        }
        else
        {
            throw new VmDebugException("QemuConfValueInvalid", ErrorKind.InvalidArgument,
                "A qemu.conf string value cannot contain both quote characters.", value);
        }

        return new LibvirtConfValue(LibvirtConfValueKind.String, LibvirtConfText.FromUtf8(quoted), LibvirtConfText.FromUtf8(value), 0, []);
    }

    public static LibvirtConfValue FromInteger(long value) =>
        new(LibvirtConfValueKind.Integer, value.ToString(System.Globalization.CultureInfo.InvariantCulture), null, value, []);

    /// <summary>Same meaning, ignoring how it was spelled ('a' vs "a", +1 vs 1).</summary>
    public bool SameValueAs(LibvirtConfValue other) => Kind == other.Kind && Kind switch
    {
        LibvirtConfValueKind.String => String == other.String,
        LibvirtConfValueKind.Integer => Integer == other.Integer,
        _ => Items.Count == other.Items.Count && Items.Zip(other.Items).All(p => p.First.SameValueAs(p.Second)),
    };
}
