using System.Globalization;
using System.Text;

namespace VmDebug.Engine.KernelLog;

/// <summary>
/// Formats records exactly as <c>makedumpfile --dump-dmesg</c> 1.7.x writes them (printk.c dump_record,
/// makedumpfile.c dump_log_entry): "[%5llu.%06lu] ", then the text with '\n' followed by an indent as wide as the
/// prefix, printable and space characters as they are, anything else as <c>\x%02x</c> of a signed char (so bytes
/// from 0x80 print as \xffffff80..\xffffffff, as C's sign extension makes them), and a newline.
/// </summary>
public static class MakedumpfileText
{
    public static string Format(KernelLogEntry entry)
    {
        var text = new StringBuilder(entry.Text.Length + 24);
        var seconds = entry.TimestampNanoseconds / 1_000_000_000;
        var micros = entry.TimestampNanoseconds % 1_000_000_000 / 1000;
        text.Append(CultureInfo.InvariantCulture, $"[{seconds,5}.{micros:D6}] ");
        var indent = text.Length;
        foreach (var b in entry.Text)
        {
            if (b == (byte)'\n')
            {
                text.Append('\n').Append(' ', indent);
            }
            else if (b is >= 0x20 and <= 0x7e or >= 0x09 and <= 0x0d)
            {
                text.Append((char)b); // C-locale isprint() or isspace()
            }
            else if (b >= 0x80)
            {
                text.Append(CultureInfo.InvariantCulture, $"\\x{unchecked((uint)(sbyte)b):x8}");
            }
            else
            {
                text.Append(CultureInfo.InvariantCulture, $"\\x{b:x2}");
            }
        }
        return text.Append('\n').ToString();
    }
}
