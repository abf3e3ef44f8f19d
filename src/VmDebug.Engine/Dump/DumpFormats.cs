using VmDebug.Engine.Compression;

namespace VmDebug.Engine.Dump;

public static class DumpFormats
{
    /// <summary>The name QMP's dump-guest-memory and query-dump-guest-memory-capability use.</summary>
    public static string QmpName(DumpFormat format) => format switch
    {
        DumpFormat.Elf => "elf",
        DumpFormat.KdumpZlib => "kdump-zlib",
        DumpFormat.KdumpLzo => "kdump-lzo",
        DumpFormat.KdumpSnappy => "kdump-snappy",
        DumpFormat.KdumpZstd => "kdump-zstd",
        DumpFormat.WinDmp => "win-dmp",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    /// <summary>The page codec of a format VmDebug writes itself: null for ELF; WinDmp it cannot write.</summary>
    public static PageCompression? PageCompressionOf(DumpFormat format) => format switch
    {
        DumpFormat.Elf => null,
        DumpFormat.KdumpZlib => PageCompression.Zlib,
        DumpFormat.KdumpLzo => PageCompression.Lzo,
        DumpFormat.KdumpSnappy => PageCompression.Snappy,
        DumpFormat.KdumpZstd => PageCompression.Zstd,
        _ => throw new VmDebugException("DumpFormatUnsupported", ErrorKind.InvalidArgument,
            $"VmDebug writes Elf, KdumpZlib, KdumpLzo, KdumpSnappy or KdumpZstd itself, not {format}.", format),
    };

    /// <summary>"Dump with -Format Elf, then convert it with Convert-Vmcore -Format X": for a format only VmDebug writes.</summary>
    public static Remedy ConvertRemedy(DumpFormat wanted, params DumpFormat[] dumpable) =>
        new($"Dump with {string.Join(" or ", dumpable.Select((_, i) => $"{{{i}}}"))}, then convert it with {{{dumpable.Length}}} {{{dumpable.Length + 1}}}.",
            [.. dumpable.Select(f => RemedyTerm.Of(RemedyParameter.Format, f)), RemedyTerm.Of(RemedyCommand.ConvertVmcore), RemedyTerm.Of(RemedyParameter.Format, wanted)]);

    /// <summary>Parses the CLI's spelling (elf, kdump-zlib, ...) or the cmdlet's (KdumpZlib).</summary>
    public static DumpFormat Parse(string text)
    {
        foreach (var format in Enum.GetValues<DumpFormat>())
        {
            if (string.Equals(text, QmpName(format), StringComparison.OrdinalIgnoreCase)
                || string.Equals(text, format.ToString(), StringComparison.OrdinalIgnoreCase))
            {
                return format;
            }
        }

        throw new VmDebugException("DumpFormatUnknown", ErrorKind.InvalidArgument,
            $"'{text}' is not a dump format. Use one of: {string.Join(", ", Enum.GetValues<DumpFormat>().Select(QmpName))}.", text);
    }
}
