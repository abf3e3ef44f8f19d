using System.Globalization;

namespace VmDebug.Engine.CrashConfiguration;

/// <summary>Byte sizes as people and config files write them.</summary>
public static class ByteSize
{
    /// <summary>
    /// "4GiB", "512M", "1000000", "2 GB". Units follow libvirt's scaled integers: K/KiB/M/MiB... are powers of
    /// 1024, KB/MB/GB/TB are powers of 1000; a bare number is bytes. Case-insensitive.
    /// </summary>
    public static long Parse(string text, string what = "size")
    {
        if (TryParse(text, out var bytes))
        {
            return bytes;
        }

        throw new VmDebugException("SizeInvalid", ErrorKind.InvalidArgument,
            $"'{text}' is not a valid {what}: use a number of bytes or a number with a unit such as 512MiB, 4G or 8GB.", text);
    }

    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        var s = text.Trim();
        var i = 0;
        while (i < s.Length && char.IsAsciiDigit(s[i]))
        {
            i++;
        }

        if (i == 0 || !ulong.TryParse(s.AsSpan(0, i), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }

        var unit = s[i..].Trim().ToUpperInvariant();
        (var scale, var ok) = unit switch
        {
            "" or "B" or "BYTES" => (1UL, true),
            "K" or "KIB" => (1UL << 10, true),
            "M" or "MIB" => (1UL << 20, true),
            "G" or "GIB" => (1UL << 30, true),
            "T" or "TIB" => (1UL << 40, true),
            "P" or "PIB" => (1UL << 50, true),
            "KB" => (1000UL, true),
            "MB" => (1000_000UL, true),
            "GB" => (1000_000_000UL, true),
            "TB" => (1000_000_000_000UL, true),
            "PB" => (1000_000_000_000_000UL, true),
            _ => (0UL, false),
        };
        if (!ok)
        {
            return false;
        }

        try
        {
            var result = checked(number * scale);
            if (result > long.MaxValue)
            {
                return false;
            }

            bytes = (long)result;
            return true;
        }
        catch (OverflowException) { return false; }
    }

    /// <summary>
    /// systemd's size syntax (parse_size with base 1024): a number with optional B, K, M, G, T, P, E suffix;
    /// "infinity" is unlimited (returned as long.MaxValue).
    /// </summary>
    public static bool TryParseSystemd(string text, out long bytes)
    {
        bytes = 0;
        var s = text.Trim();
        if (s.Equals("infinity", StringComparison.OrdinalIgnoreCase)) { bytes = long.MaxValue; return true; }
        var i = 0;
        while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
        {
            i++;
        }

        if (i == 0 || !decimal.TryParse(s.AsSpan(0, i), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }

        var shift = s[i..].Trim() switch
        {
            "" or "B" => 0,
            "K" => 10,
            "M" => 20,
            "G" => 30,
            "T" => 40,
            "P" => 50,
            "E" => 60,
            _ => -1,
        };
        if (shift < 0)
        {
            return false;
        }

        var value = number * (decimal)Math.Pow(2, shift);
        if (value > long.MaxValue)
        {
            return false;
        }

        bytes = (long)value;
        return true;
    }
}
