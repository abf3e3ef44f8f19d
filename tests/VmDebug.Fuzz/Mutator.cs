using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;

namespace VmDebug.Fuzz;

/// <summary>Structure-aware mutations: integer fields at known offsets get boundary values, text gets token edits.</summary>
internal sealed partial class Mutator(Random random)
{
    public Random Random { get; } = random;

    /// <summary>Values that break size arithmetic: zero, one, all ones, sign bits, powers of two around address limits, the file's length.</summary>
    public ulong Interesting(long fileLength)
    {
        return Random.Next(12) switch
        {
            0 => 0,
            1 => 1,
            2 => ulong.MaxValue,
            3 => (ulong)long.MaxValue,
            4 => 1UL << 63,
            5 => 1UL << Random.Next(64),
            6 => (1UL << Random.Next(64)) - 1,
            7 => (1UL << Random.Next(64)) + 1,
            8 => (ulong)fileLength + (ulong)(Random.Next(3) - 1),
            9 => (ulong)Random.NextInt64(),
            10 => (ulong)Random.Next(65536),
            _ => (1UL << new[] { 31, 32, 40, 44, 45, 46, 50, 52 }[Random.Next(8)]) + (ulong)(Random.Next(3) - 1) * 4096,
        };
    }

    public void SetField(byte[] data, long offset, int width, ulong value, bool bigEndian = false)
    {
        if (offset < 0 || offset + width > data.Length)
        {
            return;
        }
        var span = data.AsSpan((int)offset, width);
        switch (width)
        {
            case 1: span[0] = (byte)value; break;
            case 2:
                if (bigEndian)
                {
                    BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)value);
                }
                else
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)value);
                }
                break;
            case 4:
                if (bigEndian)
                {
                    BinaryPrimitives.WriteUInt32BigEndian(span, (uint)value);
                }
                else
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)value);
                }
                break;
            default:
                if (bigEndian)
                {
                    BinaryPrimitives.WriteUInt64BigEndian(span, value);
                }
                else
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(span, value);
                }
                break;
        }
    }

    /// <summary>Mutates one of <paramref name="fields"/> (offset, width) with an interesting value, sometimes a small delta instead.</summary>
    public void MutateOneOf(byte[] data, long baseOffset, (int Offset, int Width)[] fields, bool bigEndian = false)
    {
        var (offset, width) = fields[Random.Next(fields.Length)];
        var value = Interesting(data.Length);
        if (Random.Next(4) == 0 && baseOffset + offset + width <= data.Length)
        {
            var current = width switch
            {
                1 => data[baseOffset + offset],
                2 => BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan((int)(baseOffset + offset))),
                4 => BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan((int)(baseOffset + offset))),
                _ => BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan((int)(baseOffset + offset))),
            };
            value = current + (ulong)(Random.Next(17) - 8);
        }
        SetField(data, baseOffset + offset, width, value, bigEndian);
    }

    /// <summary>A few random byte flips in [from, to): the unstructured part of a case.</summary>
    public void FlipBytes(byte[] data, long from, long to, int count)
    {
        from = Math.Clamp(from, 0, data.Length);
        to = Math.Clamp(to, from, data.Length);
        for (var i = 0; i < count && to > from; i++)
        {
            var at = (int)(from + Random.NextInt64(to - from));
            data[at] = Random.Next(3) == 0 ? (byte)((1 << Random.Next(8)) ^ data[at]) : (byte)Random.Next(256);
        }
    }

    public byte[] Truncate(byte[] data) => data[..Random.Next(data.Length + 1)];

    /// <summary>Token edits: delete, duplicate, swap, or insert a syntax character or an extreme number.</summary>
    public string MutateText(string text)
    {
        var tokens = Token().Matches(text).Select(m => m.Value).ToList();
        string[] specials = ["\"", "[", "]", "=", "#", "\n", "<", ">", "&", ";", ",", "{", "}", ":", "\\", "\0", "\u001b[2J",
            "99999999999999999999999", "-1", "0x", "\u202e", "<!DOCTYPE x [<!ENTITY e \"eeeeeeeeee\">]>", "&e;", "]]>", "\uFFFF"];
        var edits = 1 + Random.Next(4);
        for (var e = 0; e < edits && tokens.Count > 0; e++)
        {
            var i = Random.Next(tokens.Count);
            switch (Random.Next(5))
            {
                case 0: tokens.RemoveAt(i); break;
                case 1: tokens.Insert(i, tokens[i]); break;
                case 2: (tokens[i], tokens[^1]) = (tokens[^1], tokens[i]); break;
                case 3: tokens.Insert(i, specials[Random.Next(specials.Length)]); break;
                default: tokens[i] = long.TryParse(tokens[i], out _) ? Interesting(0).ToString(System.Globalization.CultureInfo.InvariantCulture) : tokens[i] + tokens[i]; break;
            }
        }
        return string.Concat(tokens);
    }

    public byte[] MutateTextBytes(string text) => Encoding.UTF8.GetBytes(MutateText(text));

    [GeneratedRegex(@"\w+|\s+|[^\w\s]", RegexOptions.CultureInvariant)]
    private static partial Regex Token();
}
