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
                    if (Matches(segment, name) && (segment.StartsWith('.') || !name.StartsWith('.')) && next.Count < MaxMatches)
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

    /// <summary>
    /// Whether <paramref name="name"/> matches one glob segment: <c>*</c> any run, <c>?</c> any one character,
    /// <c>[set]</c> or <c>[!set]</c> (or <c>[^set]</c>, as bash takes it) one character in (or not in) the set, with ranges such as <c>a-z</c>; a
    /// <c>]</c> first in a set is a member, and a <c>[</c> without its <c>]</c> is itself. Matched by hand, not by a
    /// regular expression: a pattern-built Regex drew the regex parser and all its engines into the executable, 201 of
    /// the 2,812 static bases every vmdebug run allocated at start.
    /// </summary>
    internal static bool Matches(ReadOnlySpan<char> segment, ReadOnlySpan<char> name)
    {
        // The usual single-backtrack wildcard match: on a mismatch, let the last * take one more character.
        int p = 0, n = 0, starP = -1, starN = 0;
        while (n < name.Length)
        {
            if (p < segment.Length && segment[p] == '*')
            {
                starP = p++;
                starN = n;
                continue;
            }
            if (p < segment.Length && MatchOne(segment, ref p, name[n]))
            {
                n++;
                continue;
            }
            if (starP < 0)
            {
                return false;
            }
            p = starP + 1;
            n = ++starN;
        }
        while (p < segment.Length && segment[p] == '*')
        {
            p++;
        }
        return p == segment.Length;
    }

    // Whether the pattern element at p matches c; on a match p moves past the element.
    private static bool MatchOne(ReadOnlySpan<char> segment, ref int p, char c)
    {
        var element = segment[p];
        if (element == '?')
        {
            p++;
            return true;
        }
        if (element == '[' && FindSet(segment, p, out var first, out var close, out var negate))
        {
            var found = false;
            for (var i = first; i < close; i++)
            {
                if (i + 2 < close && segment[i + 1] == '-')
                {
                    found |= c >= segment[i] && c <= segment[i + 2];
                    i += 2;
                }
                else
                {
                    found |= c == segment[i];
                }
            }
            if (found == negate)
            {
                return false;
            }
            p = close + 1;
            return true;
        }
        if (element != c)
        {
            return false;
        }
        p++;
        return true;
    }

    // The set opened by the [ at p: its members are [first, close), close is its ]. False when no ] closes it (the
    // [ is then literal).
    private static bool FindSet(ReadOnlySpan<char> segment, int p, out int first, out int close, out bool negate)
    {
        first = p + 1;
        negate = first < segment.Length && segment[first] is '!' or '^';
        if (negate)
        {
            first++;
        }
        // A ] straight after [ or [! belongs to the set.
        var after = first + 1 < segment.Length ? segment[(first + 1)..].IndexOf(']') : -1;
        close = first + 1 + after;
        return after >= 0;
    }
}
