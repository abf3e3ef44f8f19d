using System.Buffers;
using System.Globalization;
using System.Text.Unicode;

namespace VmDebug.Engine.KernelLog;

/// <summary>
/// Formats records exactly as <c>makedumpfile --dump-dmesg</c> 1.7.x writes them (printk.c dump_record,
/// makedumpfile.c dump_log_entry): "[%5llu.%06lu] ", then the text with '\n' followed by an indent as wide as the
/// prefix, printable and space characters as they are, anything else as <c>\x%02x</c> of a signed char (so bytes
/// from 0x80 print as \xffffff80..\xffffffff, as C's sign extension makes them), and a newline. The output is ASCII
/// bytes, written straight into the caller's buffer: a log is written out as it is, never held as text.
/// </summary>
public static class MakedumpfileText
{
    // C-locale isprint() or isspace(), less the newline, which is followed by an indent.
    private static readonly SearchValues<byte> AsIs = SearchValues.Create(
        [.. Enumerable.Range(0x20, 0x7f - 0x20).Select(b => (byte)b), 0x09, 0x0b, 0x0c, 0x0d]);

    public static void Write(KernelLogEntry entry, ArrayBufferWriter<byte> output)
    {
        var seconds = entry.TimestampNanoseconds / 1_000_000_000;
        var micros = entry.TimestampNanoseconds % 1_000_000_000 / 1000;
        Utf8.TryWrite(output.GetSpan(48), CultureInfo.InvariantCulture, $"[{seconds,5}.{micros:D6}] ", out var indent);
        output.Advance(indent);
        ReadOnlySpan<byte> text = entry.Text;
        while (!text.IsEmpty)
        {
            var plain = text.IndexOfAnyExcept(AsIs);
            if (plain < 0)
            {
                output.Write(text);
                break;
            }

            output.Write(text[..plain]);
            var b = text[plain];
            var span = output.GetSpan(Math.Max(indent + 1, 10));
            int written;
            if (b == (byte)'\n')
            {
                span[0] = b;
                span.Slice(1, indent).Fill((byte)' ');
                written = indent + 1;
            }
            else if (b >= 0x80)
            {
                Utf8.TryWrite(span, CultureInfo.InvariantCulture, $"\\x{unchecked((uint)(sbyte)b):x8}", out written);
            }
            else
            {
                Utf8.TryWrite(span, CultureInfo.InvariantCulture, $"\\x{b:x2}", out written);
            }

            output.Advance(written);
            text = text[(plain + 1)..];
        }

        output.Write("\n"u8);
    }
}
