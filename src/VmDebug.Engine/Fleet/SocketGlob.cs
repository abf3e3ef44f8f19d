using System.Text;
using System.Text.RegularExpressions;

namespace VmDebug.Engine.Fleet;

/// <summary>
/// Expands a shell-style glob of socket paths (<c>*</c>, <c>?</c>, <c>[abc]</c> within one path segment, as sh does)
/// to the Unix sockets that exist now. Hidden names match only a pattern that starts with a dot; symlinked
/// directories are not descended.
/// </summary>
public static class SocketGlob
{
    private const int MaxMatches = 4096;

    public static IReadOnlyList<string> Expand(string pattern)
    {
        var full = Path.GetFullPath(pattern);
        var segments = full.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var current = new List<string> { "/" };
        for (var i = 0; i < segments.Length && current.Count > 0; i++)
        {
            var last = i == segments.Length - 1;
            var segment = segments[i];
            var next = new List<string>();
            foreach (var directory in current)
            {
                if (!HasWildcard(segment))
                {
                    next.Add(Path.Combine(directory, segment));
                    continue;
                }
                var regex = ToRegex(segment);
                IEnumerable<string> entries;
                try
                {
                    entries = Directory.EnumerateFileSystemEntries(directory);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    continue;
                }
                foreach (var entry in entries)
                {
                    var name = Path.GetFileName(entry);
                    if (regex.IsMatch(name) && (segment.StartsWith('.') || !name.StartsWith('.')) && next.Count < MaxMatches)
                    {
                        next.Add(entry);
                    }
                }
            }
            current = last ? next : next.Where(d => Files.UnixFile.LStat(d) is { IsDirectory: true }).ToList();
        }
        return [.. current.Where(p => Files.UnixFile.Stat(p) is { Type: Files.UnixFileStatus.Socket }).Order(StringComparer.Ordinal)];
    }

    private static bool HasWildcard(string segment) => segment.IndexOfAny(['*', '?', '[']) >= 0;

    private static Regex ToRegex(string segment)
    {
        var pattern = new StringBuilder("^");
        for (var i = 0; i < segment.Length; i++)
        {
            var c = segment[i];
            var close = c == '[' ? segment.IndexOf(']', i + 2) : -1;
            if (c == '*')
            {
                pattern.Append("[^/]*");
            }
            else if (c == '?')
            {
                pattern.Append("[^/]");
            }
            else if (close > 0)
            {
                var set = segment[(i + 1)..close];
                var negate = set.StartsWith('!');
                pattern.Append('[').Append(negate ? "^" : "").Append(Regex.Escape(negate ? set[1..] : set).Replace("\\-", "-", StringComparison.Ordinal)).Append(']');
                i = close;
            }
            else
            {
                pattern.Append(Regex.Escape(c.ToString()));
            }
        }
        return new Regex(pattern.Append('$').ToString(), RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    }
}
