using System.Globalization;

namespace VmDebug.Engine.Dump;

/// <summary>
/// Where each dump of one command goes when several inputs share one destination. A directory takes them all
/// under generated names, <c>&lt;name&gt;-&lt;UTC time&gt;.&lt;ext&gt;</c> (a counter is added when a name is taken);
/// a file takes exactly one, so the second input fails clearly instead of colliding with the first.
/// </summary>
public sealed class DumpDestination
{
    private readonly string _destination;
    private readonly Func<DateTime> _utcNow;
    private readonly HashSet<string> _given = new(StringComparer.Ordinal);

    public DumpDestination(string destination, Func<DateTime>? utcNow = null)
    {
        _destination = Path.GetFullPath(destination);
        _utcNow = utcNow ?? (() => DateTime.UtcNow);
    }

    /// <summary>The destination is an existing directory: every dump gets a generated name inside it.</summary>
    public bool IsDirectory => Directory.Exists(_destination);

    /// <summary>The file for the dump of <paramref name="name"/> (an input file's stem, a domain, a PID) in <paramref name="format"/>.</summary>
    public string PathFor(string name, DumpFormat format)
    {
        if (!IsDirectory)
        {
            if (!_given.Add(_destination))
            {
                throw new VmDebugException("DumpDestinationReused", ErrorKind.InvalidArgument,
                    $"'{_destination}' already takes a dump of this command; several inputs need a directory as destination.", _destination);
            }

            return _destination;
        }

        var stem = $"{SafeName(name)}-{_utcNow().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}";
        var extension = Extension(format);
        for (var attempt = 1; ; attempt++)
        {
            var candidate = Path.Combine(_destination, attempt == 1 ? $"{stem}.{extension}" : $"{stem}-{attempt}.{extension}");
            if (!File.Exists(candidate) && new FileInfo(candidate).LinkTarget is null && _given.Add(candidate))
            {
                return candidate;
            }
        }
    }

    /// <summary>The extension a generated name gets: elf, kdump (any codec; the header says which) or dmp.</summary>
    public static string Extension(DumpFormat format) => format switch
    {
        DumpFormat.Elf => "elf",
        DumpFormat.WinDmp => "dmp",
        _ => "kdump",
    };

    /// <summary>
    /// A name made safe for a file name: no separators or control characters, not hidden, and short enough that the
    /// time and extension still fit in 255 bytes.
    /// </summary>
    private static string SafeName(string name)
    {
        var safe = new string(name.Select(c => c == '/' || char.IsControl(c) ? '_' : c).Take(MaxNameChars).ToArray());
        return safe.Length == 0 || safe.StartsWith('.') ? "vmcore" + safe : safe;
    }

    /// <summary>UTF-8 takes up to 3 bytes for these chars; 3 × 64 plus "-yyyyMMddTHHmmssZ-N.kdump" stays under 255.</summary>
    private const int MaxNameChars = 64;
}
