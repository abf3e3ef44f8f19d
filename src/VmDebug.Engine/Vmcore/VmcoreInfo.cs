using System.Globalization;
using System.Numerics;
using System.Text;

namespace VmDebug.Engine.Vmcore;

/// <summary>
/// The kernel's VMCOREINFO text (kernel/vmcore_info.c): "KEY=value" lines. NUMBER() is printed %ld (decimal,
/// may be negative), SYMBOL() and KERNELOFFSET %lx (hex without 0x), OFFSET/SIZE/LENGTH %lu.
/// </summary>
public sealed class VmcoreInfo
{
    /// <summary>Largest text accepted; the kernel's buffer is one page (VMCOREINFO_BYTES).</summary>
    public const int MaxBytes = 64 * 1024;

    /// <summary>Name of the ELF note that carries the text.</summary>
    public const string NoteName = "VMCOREINFO";

    // Where each key's first line lies in Text, found through a table of their hashes: parsing builds no string per
    // line (a 6.x kernel has ~200, and a dump is opened for a few milliseconds' work), and a lookup builds only the
    // value it returns. Hashes are the process's randomised string hashes, so a crafted note cannot make keys collide.
    private readonly Line[] _lines;
    private readonly int[] _slots; // index + 1 into _lines, 0 when empty; a power of two, at least twice the lines
    private Dictionary<string, string>? _values;

    private readonly record struct Line(int Hash, int KeyStart, int KeyLength, int ValueStart, int ValueLength);

    private VmcoreInfo(string text, Line[] lines, int[] slots, int malformedLines)
    {
        Text = text;
        _lines = lines;
        _slots = slots;
        MalformedLineCount = malformedLines;
    }

    /// <summary>The text as found (after the size bound).</summary>
    public string Text { get; }

    /// <summary>Lines that were not KEY=value and were ignored.</summary>
    public int MalformedLineCount { get; }

    /// <summary>Every key with its first value.</summary>
    public IReadOnlyDictionary<string, string> Values => _values ??= BuildValues();

    public string? OsRelease => Get("OSRELEASE");

    public string? BuildId => Get("BUILD-ID");

    public int? PageSize => Find("PAGESIZE") is { } line && int.TryParse(ValueOf(line), NumberStyles.None, CultureInfo.InvariantCulture, out var size) ? size : null;

    /// <summary>NUMBER(phys_base): where the kernel image was loaded relative to its link address (x86_64).</summary>
    public long? PhysBase => Number("phys_base");

    /// <summary>KERNELOFFSET: the KASLR slide, hex.</summary>
    public ulong? KernelOffset => ParseHex(Find("KERNELOFFSET"));

    public string? Get(string key) => Find(key) is { } line ? Text.Substring(line.ValueStart, line.ValueLength) : null;

    public ulong? Symbol(string name) => ParseHex(Find(stackalloc char[KeyBuffer], "SYMBOL(", name, ")"));

    /// <summary>NUMBER(name): decimal, possibly negative; a few (e.g. VMALLOC_START) are printed with 0x.</summary>
    public long? Number(string name)
    {
        if (Find(stackalloc char[KeyBuffer], "NUMBER(", name, ")") is not { } line)
        {
            return null;
        }
        var text = ValueOf(line);
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return ulong.TryParse(text[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex) ? unchecked((long)hex) : null;
        }
        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : null;
    }

    /// <summary>OFFSET(struct.member).</summary>
    public ulong? Offset(string structName, string member) => ParseDecimal(Find(stackalloc char[KeyBuffer], "OFFSET(", structName, ".", member, ")"));

    public ulong? Size(string name) => ParseDecimal(Find(stackalloc char[KeyBuffer], "SIZE(", name, ")"));

    public ulong? Length(string name) => ParseDecimal(Find(stackalloc char[KeyBuffer], "LENGTH(", name, ")"));

    /// <summary>Parses VMCOREINFO text; anything past <see cref="MaxBytes"/> is dropped, trailing NULs ignored.</summary>
    public static VmcoreInfo Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > MaxBytes)
        {
            bytes = bytes[..MaxBytes];
        }
        var nul = bytes.IndexOf((byte)0);
        if (nul >= 0)
        {
            bytes = bytes[..nul];
        }
        return Parse(Encoding.UTF8.GetString(bytes));
    }

    public static VmcoreInfo Parse(string text)
    {
        if (text.Length > MaxBytes)
        {
            text = text[..MaxBytes];
        }
        var lineCount = text.AsSpan().Count('\n') + 1;
        var lines = new Line[lineCount];
        var slots = new int[(int)BitOperations.RoundUpToPowerOf2((uint)lineCount * 2)];
        var count = 0;
        var malformed = 0;
        for (var start = 0; start < text.Length;)
        {
            var newline = text.IndexOf('\n', start);
            var end = newline < 0 ? text.Length : newline;
            var line = text.AsSpan(start, end - start).TrimEnd('\r');
            var lineStart = start;
            start = end + 1;
            if (line.Length == 0)
            {
                continue;
            }
            var eq = line.IndexOf('=');
            if (eq <= 0 || !IsKey(line[..eq]))
            {
                malformed++;
                continue;
            }
            // First occurrence wins, as makedumpfile's reader takes the first match.
            var hash = string.GetHashCode(line[..eq]);
            var slot = FindSlot(text, lines, slots, hash, line[..eq]);
            if (slots[slot] == 0)
            {
                lines[count++] = new Line(hash, lineStart, eq, lineStart + eq + 1, line.Length - eq - 1);
                slots[slot] = count;
            }
        }
        return new VmcoreInfo(text, lines[..count], slots, malformed);
    }

    /// <summary>Finds the VMCOREINFO note among <paramref name="notes"/>.</summary>
    public static VmcoreInfo? FromNotes(IEnumerable<ElfNote> notes)
    {
        var note = notes.FirstOrDefault(n => n.Name == NoteName);
        return note is null ? null : Parse(note.Descriptor);
    }

    // Keys the lookups build (SYMBOL(name), OFFSET(struct.member), …) are short; a longer one goes to the heap.
    private const int KeyBuffer = 128;

    private Line? Find(ReadOnlySpan<char> key)
    {
        var index = _slots[FindSlot(Text, _lines, _slots, string.GetHashCode(key), key)];
        return index == 0 ? null : _lines[index - 1];
    }

    private Line? Find(Span<char> buffer, string prefix, string name, string suffix) => Find(buffer, prefix, name, "", "", suffix);

    // The key made of the parts, without a string for it: these lookups run by the dozen for every dump opened.
    private Line? Find(Span<char> buffer, string part0, string part1, string part2, string part3, string part4)
    {
        var length = part0.Length + part1.Length + part2.Length + part3.Length + part4.Length;
        var key = length <= buffer.Length ? buffer[..length] : new char[length];
        var at = 0;
        foreach (var part in (ReadOnlySpan<string>)[part0, part1, part2, part3, part4])
        {
            part.CopyTo(key[at..]);
            at += part.Length;
        }
        return Find(key);
    }

    // Linear probing; the table is at most half full, so a probe ends at an empty slot.
    private static int FindSlot(string text, Line[] lines, int[] slots, int hash, ReadOnlySpan<char> key)
    {
        var mask = slots.Length - 1;
        for (var slot = hash & mask; ; slot = (slot + 1) & mask)
        {
            if (slots[slot] == 0)
            {
                return slot;
            }
            var line = lines[slots[slot] - 1];
            if (line.Hash == hash && text.AsSpan(line.KeyStart, line.KeyLength).SequenceEqual(key))
            {
                return slot;
            }
        }
    }

    private ReadOnlySpan<char> ValueOf(Line line) => Text.AsSpan(line.ValueStart, line.ValueLength);

    private Dictionary<string, string> BuildValues()
    {
        var values = new Dictionary<string, string>(_lines.Length, StringComparer.Ordinal);
        foreach (var line in _lines)
        {
            values.Add(Text.Substring(line.KeyStart, line.KeyLength), Text.Substring(line.ValueStart, line.ValueLength));
        }
        return values;
    }

    private static bool IsKey(ReadOnlySpan<char> key)
    {
        foreach (var c in key)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '-' or '(' or ')' or '.' or '[' or ']'))
            {
                return false;
            }
        }
        return true;
    }

    private ulong? ParseHex(Line? line) =>
        line is { } found && ulong.TryParse(ValueOf(found), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value) ? value : null;

    private ulong? ParseDecimal(Line? line) =>
        line is { } found && ulong.TryParse(ValueOf(found), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
}
