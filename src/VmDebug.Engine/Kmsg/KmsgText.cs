using System.Buffers;
using System.Text;

namespace VmDebug;

/// <summary>The kernel's /dev/kmsg text escaping, and escaping for safe display.</summary>
internal static class KmsgText
{
    private static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    /// <summary>
    /// Escapes as the kernel does for /dev/kmsg: every byte below 0x20, from 0x7f up, and '\' becomes \xNN
    /// (kernel/printk/printk.c, msg_add_ext_text).
    /// </summary>
    public static string Escape(string text)
    {
        var bytes = Utf8.GetBytes(text);
        var escaped = new StringBuilder(bytes.Length + 8);
        foreach (var b in bytes)
        {
            if (NeedsKernelEscape(b))
            {
                escaped.Append("\\x").Append(HexDigit(b >> 4)).Append(HexDigit(b & 0xf));
            }
            else
            {
                escaped.Append((char)b);
            }
        }

        return escaped.ToString();
    }

    /// <summary>Decodes \xNN escapes to bytes and the result as UTF-8. A backslash not followed by xNN stays as it is.</summary>
    public static string Unescape(ReadOnlySpan<byte> raw)
    {
        if (raw.IndexOf((byte)'\\') < 0)
        {
            return Utf8.GetString(raw);
        }

        var rented = ArrayPool<byte>.Shared.Rent(raw.Length);
        try
        {
            var length = 0;
            for (var i = 0; i < raw.Length; i++)
            {
                if (raw[i] == (byte)'\\' && i + 3 < raw.Length && raw[i + 1] == (byte)'x'
                    && HexValue(raw[i + 2]) is var high and >= 0 && HexValue(raw[i + 3]) is var low and >= 0)
                {
                    rented[length++] = (byte)((high << 4) | low);
                    i += 3;
                }
                else
                {
                    rented[length++] = raw[i];
                }
            }

            return Utf8.GetString(rented, 0, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public static string Decode(ReadOnlySpan<byte> raw) => Utf8.GetString(raw);

    /// <summary>
    /// Replaces control characters (C0, DEL, C1, so also ESC of ANSI sequences) and bidirectional overrides
    /// with visible escapes, so a guest cannot drive the host's terminal or disguise text.
    /// </summary>
    public static string EscapeForDisplay(string text)
    {
        var i = 0;
        while (i < text.Length && !NeedsDisplayEscape(text[i]))
        {
            i++;
        }

        if (i == text.Length)
        {
            return text;
        }

        var safe = new StringBuilder(text.Length + 16);
        safe.Append(text, 0, i);
        for (; i < text.Length; i++)
        {
            var c = text[i];
            if (!NeedsDisplayEscape(c))
            {
                safe.Append(c);
            }
            else if (c <= 0xff)
            {
                safe.Append("\\x").Append(HexDigit(c >> 4)).Append(HexDigit(c & 0xf));
            }
            else
            {
                safe.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return safe.ToString();
    }

    private static bool NeedsKernelEscape(byte b) => b < 0x20 || b >= 0x7f || b == (byte)'\\';

    private static bool NeedsDisplayEscape(char c) =>
        char.IsControl(c) || c is '\u061c' or '\u200e' or '\u200f' or (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069');

    private static char HexDigit(int value) => (char)(value < 10 ? '0' + value : 'a' + value - 10);

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}
