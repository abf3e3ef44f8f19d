using System.Globalization;

namespace VmDebug.Engine.Dump;

/// <summary>
/// Where a dump goes when its destination is a directory: a new name in it, <c>&lt;domain-or-pid&gt;-&lt;UTC time&gt;.&lt;ext&gt;</c>,
/// so several guests piped into one command each get their own file.
/// </summary>
public static class DumpDestination
{
    private const int MaxSubjectLength = 64;

    /// <summary>
    /// <paramref name="path"/> itself when it is not an existing directory; otherwise a file in it named after
    /// <paramref name="subject"/> (asked only then) and <paramref name="now"/>, with -2, -3… when that name is taken.
    /// </summary>
    public static string Resolve(string path, Func<string> subject, DumpFormat format, DateTimeOffset now)
    {
        var full = Path.GetFullPath(path);
        if (!Directory.Exists(full))
        {
            return full;
        }

        var stem = string.Create(CultureInfo.InvariantCulture, $"{SafeName(subject())}-{now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}");
        var extension = Extension(format);
        var candidate = Path.Combine(full, stem + extension);
        for (var n = 2; Taken(candidate); n++)
        {
            candidate = Path.Combine(full, string.Create(CultureInfo.InvariantCulture, $"{stem}-{n}{extension}"));
        }

        return candidate;
    }

    public static string Extension(DumpFormat format) => format switch
    {
        DumpFormat.Elf => ".elf",
        DumpFormat.WinDmp => ".dmp",
        _ => ".kdump",
    };

    private static bool Taken(string path) => File.Exists(path) || Directory.Exists(path) || new FileInfo(path).LinkTarget is not null;

    /// <summary>Domain names and socket names come from configuration; keep them one plain file-name component.</summary>
    private static string SafeName(string subject)
    {
        var invalid = Path.GetInvalidFileNameChars();
        var safe = new string(subject.Select(c => char.IsControl(c) || invalid.Contains(c) || c == ' ' ? '_' : c).ToArray()).TrimStart('.');
        safe = safe.Length > MaxSubjectLength ? safe[..MaxSubjectLength] : safe;
        return safe.Length == 0 ? "guest" : safe;
    }
}
