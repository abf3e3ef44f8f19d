using System.Globalization;
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

    private readonly Dictionary<string, string> _values;

    private VmcoreInfo(string text, Dictionary<string, string> values, int malformedLines)
    {
        Text = text;
        _values = values;
        MalformedLineCount = malformedLines;
    }

    /// <summary>The text as found (after the size bound).</summary>
    public string Text { get; }

    /// <summary>Lines that were not KEY=value and were ignored.</summary>
    public int MalformedLineCount { get; }

    public IReadOnlyDictionary<string, string> Values => _values;

    public string? OsRelease => Get("OSRELEASE");

    public string? BuildId => Get("BUILD-ID");

    public int? PageSize => Get("PAGESIZE") is { } text && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var size) ? size : null;

    /// <summary>NUMBER(phys_base): where the kernel image was loaded relative to its link address (x86_64).</summary>
    public long? PhysBase => Number("phys_base");

    /// <summary>KERNELOFFSET: the KASLR slide, hex.</summary>
    public ulong? KernelOffset => ParseHex(Get("KERNELOFFSET"));

    public string? Get(string key) => _values.TryGetValue(key, out var value) ? value : null;

    public ulong? Symbol(string name) => ParseHex(Get($"SYMBOL({name})"));

    /// <summary>NUMBER(name): decimal, possibly negative; a few (e.g. VMALLOC_START) are printed with 0x.</summary>
    public long? Number(string name)
    {
        var text = Get($"NUMBER({name})");
        if (text is null)
        {
            return null;
        }
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return ParseHex(text[2..]) is { } hex ? unchecked((long)hex) : null;
        }
        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : null;
    }

    /// <summary>OFFSET(struct.member).</summary>
    public ulong? Offset(string structName, string member) => ParseDecimal(Get($"OFFSET({structName}.{member})"));

    public ulong? Size(string name) => ParseDecimal(Get($"SIZE({name})"));

    public ulong? Length(string name) => ParseDecimal(Get($"LENGTH({name})"));

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
        // Sized for every line at once: growing through its primes rehashed the ~200 keys of a 6.x kernel six times.
        var values = new Dictionary<string, string>(text.AsSpan().Count('\n') + 1, StringComparer.Ordinal);
        var malformed = 0;
        for (var start = 0; start < text.Length;)
        {
            var newline = text.IndexOf('\n', start);
            var end = newline < 0 ? text.Length : newline;
            var line = text.AsSpan(start, end - start).TrimEnd('\r');
            start = end + 1;
            if (line.Length == 0)
            {
                continue;
            }
            var eq = line.IndexOf('=');
            if (eq <= 0 || line[..eq].ContainsAnyExcept(KeyCharacters))
            {
                malformed++;
                continue;
            }
            // First occurrence wins, as makedumpfile's reader takes the first match.
            values.TryAdd(line[..eq].ToString(), line[(eq + 1)..].ToString());
        }
        return new VmcoreInfo(text, values, malformed);
    }

    /// <summary>Finds the VMCOREINFO note among <paramref name="notes"/>.</summary>
    public static VmcoreInfo? FromNotes(IEnumerable<ElfNote> notes)
    {
        var note = notes.FirstOrDefault(n => n.Name == NoteName);
        return note is null ? null : Parse(note.Descriptor);
    }

    private static readonly System.Buffers.SearchValues<char> KeyCharacters = System.Buffers.SearchValues.Create(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-().[]");

    private static ulong? ParseHex(string? text) =>
        text is not null && ulong.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static ulong? ParseDecimal(string? text) =>
        text is not null && ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
}
