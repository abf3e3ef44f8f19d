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
        "\t\v\f\r !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"u8);

    public static void Write(KernelLogEntry entry, ArrayBufferWriter<byte> output)
    {
        var indent = WritePrefix(entry.TimestampNanoseconds, output.GetSpan(32));
        output.Advance(indent);
        var text = entry.Text.Span;
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

    /// <summary>"[%5llu.%06lu] " of the timestamp's seconds and microseconds; returns its length. Written by hand:
    /// it is the one formatting done for every record, and an interpolated handler costs more than the rest.</summary>
    private static int WritePrefix(ulong nanoseconds, Span<byte> span)
    {
        var seconds = nanoseconds / 1_000_000_000;
        var micros = (uint)(nanoseconds % 1_000_000_000 / 1000);
        var digits = 1;
        for (var rest = seconds / 10; rest > 0; rest /= 10)
        {
            digits++;
        }
        var width = Math.Max(digits, 5);
        span[0] = (byte)'[';
        span.Slice(1, width - digits).Fill((byte)' ');
        for (var i = width; i > width - digits; i--, seconds /= 10)
        {
            span[i] = (byte)('0' + (int)(seconds % 10));
        }
        span[width + 1] = (byte)'.';
        for (var i = width + 7; i > width + 1; i--, micros /= 10)
        {
            span[i] = (byte)('0' + (int)(micros % 10));
        }
        span[width + 8] = (byte)']';
        span[width + 9] = (byte)' ';
        return width + 10;
    }
}
