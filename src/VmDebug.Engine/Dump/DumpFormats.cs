using VmDebug.Engine.Compression;
using VmDebug.Engine.Libvirt;

namespace VmDebug.Engine.Dump;

public static class DumpFormats
{
    public static readonly IReadOnlyList<DumpFormatTraits> All =
    [
        new(DumpFormat.Elf, "elf", LibvirtDumpFormat.Raw, null, 0, 0),
        new(DumpFormat.KdumpZlib, "kdump-zlib", LibvirtDumpFormat.KdumpZlib, PageCompression.Zlib, 0x1, 0x1),
        new(DumpFormat.KdumpLzo, "kdump-lzo", LibvirtDumpFormat.KdumpLzo, PageCompression.Lzo, 0x2, 0x2),
        new(DumpFormat.KdumpSnappy, "kdump-snappy", LibvirtDumpFormat.KdumpSnappy, PageCompression.Snappy, 0x4, 0x4),
        new(DumpFormat.KdumpZstd, "kdump-zstd", null, PageCompression.Zstd, 0x20, 0x20),
        new(DumpFormat.WinDmp, "win-dmp", LibvirtDumpFormat.WinDmp, null, 0, 0),
    ];

    public static DumpFormatTraits Of(DumpFormat format) =>
        All.FirstOrDefault(row => row.Format == format) ?? throw new ArgumentOutOfRangeException(nameof(format), format, null);

    /// <summary>The row of a page codec; null for uncompressed pages.</summary>
    public static DumpFormatTraits? OfCompression(PageCompression compression) => All.FirstOrDefault(row => row.Compression == compression);

    /// <summary>The codec of a page_desc's single compression flag; null when the flag names none.</summary>
    public static PageCompression? CompressionOfPageFlag(uint flag) =>
        All.FirstOrDefault(row => row.Compression is not null && row.PageFlag == flag)?.Compression;

    /// <summary>Every page_desc flag bit that names a codec.</summary>
    public static uint CompressionPageFlags { get; } = All.Aggregate(0u, (mask, row) => mask | row.PageFlag);

    /// <summary>The name QMP's dump-guest-memory and query-dump-guest-memory-capability use.</summary>
    public static string QmpName(DumpFormat format) => Of(format).QmpName;

    /// <summary>The page codec of a format VmDebug writes itself: null for ELF; WinDmp it cannot write.</summary>
    public static PageCompression? PageCompressionOf(DumpFormat format) => format == DumpFormat.WinDmp
        ? throw new VmDebugException("DumpFormatUnsupported", ErrorKind.InvalidArgument,
            $"VmDebug writes Elf, KdumpZlib, KdumpLzo, KdumpSnappy or KdumpZstd itself, not {format}.", format)
        : Of(format).Compression;

    /// <summary>The libvirt format that has QEMU write <paramref name="format"/>.</summary>
    public static LibvirtDumpFormat LibvirtFormatOf(DumpFormat format) => Of(format).Libvirt
        ?? throw new VmDebugException("DumpFormatUnsupported", ErrorKind.InvalidArgument,
            $"libvirt and QEMU cannot write {Of(format).QmpName} dumps.", format)
        { Remedy = ConvertRemedy(format, DumpFormat.Elf, DumpFormat.KdumpZlib) };

    /// <summary>"Dump with -Format Elf, then convert it with Convert-Vmcore -Format X": for a format only VmDebug writes.</summary>
    public static Remedy ConvertRemedy(DumpFormat wanted, params DumpFormat[] dumpable) =>
        new($"Dump with {string.Join(" or ", dumpable.Select((_, i) => $"{{{i}}}"))}, then convert it with {{{dumpable.Length}}} {{{dumpable.Length + 1}}}.",
            [.. dumpable.Select(f => RemedyTerm.Of(RemedyParameter.Format, f)), RemedyTerm.Of(RemedyCommand.ConvertVmcore), RemedyTerm.Of(RemedyParameter.Format, wanted)]);

    /// <summary>Parses the CLI's spelling (elf, kdump-zlib, ...) or the cmdlet's (KdumpZlib).</summary>
    public static DumpFormat Parse(string text)
    {
        foreach (var row in All)
        {
            if (string.Equals(text, row.QmpName, StringComparison.OrdinalIgnoreCase)
                || string.Equals(text, row.Format.ToString(), StringComparison.OrdinalIgnoreCase))
            {
                return row.Format;
            }
        }

        throw new VmDebugException("DumpFormatUnknown", ErrorKind.InvalidArgument,
            $"'{text}' is not a dump format. Use one of: {string.Join(", ", All.Select(row => row.QmpName))}.", text);
    }
}
