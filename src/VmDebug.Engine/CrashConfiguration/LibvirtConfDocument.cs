using System.Text;

namespace VmDebug.Engine.CrashConfiguration;

/// <summary>
/// Lossless model of a libvirt config file (qemu.conf, libvirtd.conf). Parsing follows libvirt's virconf.c
/// grammar; edits rewrite only the text of the settings concerned.
/// </summary>
public sealed class LibvirtConfDocument
{
    // virconf.c reads at most 10 MiB of config (MAX_CONFIG_FILE_SIZE).
    public const int MaxFileBytes = 10 * 1024 * 1024;

    private LibvirtConfDocument(string path, string text, List<LibvirtConfEntry> entries, List<LibvirtConfCommentedSetting> commented)
    {
        Path = path;
        Text = text;
        Entries = entries;
        CommentedSettings = commented;
    }

    public string Path { get; }
    /// <summary>File text, one char per byte (Latin-1).</summary>
    public string Text { get; }
    public IReadOnlyList<LibvirtConfEntry> Entries { get; }
    public IReadOnlyList<LibvirtConfCommentedSetting> CommentedSettings { get; }

    public byte[] ToBytes() => LibvirtConfText.Bytes.GetBytes(Text);

    public static LibvirtConfDocument Load(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new VmDebugException("QemuConfNotFound", ErrorKind.ObjectNotFound, $"The config file {path} does not exist.", path);
        }

        if (info.Length > MaxFileBytes)
        {
            throw new VmDebugException("QemuConfTooLarge", ErrorKind.LimitsExceeded,
                $"The config file {path} is larger than libvirt's 10 MiB limit.", path);
        }

        return Parse(LibvirtConfText.Bytes.GetString(File.ReadAllBytes(path)), path);
    }

    public static LibvirtConfDocument Parse(string text, string path = "qemu.conf")
    {
        var parser = new Parser(text, path);
        parser.Run();
        return new LibvirtConfDocument(path, text, parser.Entries, FindCommentedSettings(text));
    }

    /// <summary>The effective entry: libvirt's lookup returns the first statement with the name.</summary>
    public LibvirtConfEntry? Find(string name) => Entries.FirstOrDefault(e => e.Name == name);

    public string? GetString(string name) => Find(name) is { Value.Kind: LibvirtConfValueKind.String } e ? LibvirtConfText.ToUtf8(e.Value.String!) : null;

    /// <summary>The value a commented-out default shows (stock files document the build's defaults this way).</summary>
    public string? GetCommentedDefaultString(string name)
    {
        var v = CommentedDefault(name)?.ValueText;
        if (v is null || v.Length < 2 || v[0] is not ('"' or '\''))
        {
            return null;
        }

        var close = v.IndexOf(v[0], 1);
        return close < 0 ? null : LibvirtConfText.ToUtf8(v[1..close]);
    }

    /// <summary>The commented-out default a human would put the setting under: a tight one, else the first.</summary>
    public LibvirtConfCommentedSetting? CommentedDefault(string name) =>
        CommentedSettings.FirstOrDefault(s => s.Name == name && s.Tight) ?? CommentedSettings.FirstOrDefault(s => s.Name == name);

    /// <summary>Returns the document with <paramref name="name"/> set; the same instance when nothing changes.</summary>
    public LibvirtConfDocument With(string name, LibvirtConfValue value)
    {
        ValidateName(name);
        var existing = Find(name);
        string text;
        if (existing is not null)
        {
            if (existing.Value.SameValueAs(value))
            {
                return this;
            }

            text = Text[..existing.ValueStart] + value.Text + Text[existing.ValueEnd..];
        }
        else
        {
            var line = name + " = " + value.Text + Newline();
            var anchor = CommentedDefault(name);
            if (anchor is not null)
            {
                // A commented default on the last line without a line break still gets its own line.
                var lead = anchor.BlockEnd == Text.Length && Text[^1] != '\n' ? Newline() : "";
                text = Text[..anchor.BlockEnd] + lead + line + Text[anchor.BlockEnd..];
            }
            else
            {
                var sep = Text.Length == 0 || Text[^1] == '\n' ? "" : Newline();
                text = Text + sep + line;
            }
        }
        return Parse(text, Path);
    }

    /// <summary>Removes every statement of <paramref name="name"/>, so libvirt's built-in default applies.</summary>
    public LibvirtConfDocument Without(string name)
    {
        var doomed = Entries.Where(e => e.Name == name).OrderByDescending(e => e.StatementStart).ToList();
        if (doomed.Count == 0)
        {
            return this;
        }

        var sb = new StringBuilder(Text);
        foreach (var e in doomed)
        {
            var (start, end) = RemovalSpan(e);
            sb.Remove(start, end - start);
        }
        return Parse(sb.ToString(), Path);
    }

    private (int Start, int End) RemovalSpan(LibvirtConfEntry e)
    {
        var lineStart = Text.LastIndexOf('\n', Math.Max(0, e.StatementStart - 1)) + 1;
        if (e.StatementStart == 0)
        {
            lineStart = 0;
        }

        var end = e.StatementEnd;
        var after = end;
        while (after < Text.Length && Text[after] is ' ' or '\t')
        {
            after++;
        }

        var aloneBefore = Text.AsSpan(lineStart, e.StatementStart - lineStart).Trim(" \t").IsEmpty;
        if (aloneBefore && (after >= Text.Length || Text[after] is '\n' or '\r'))
        {
            // The statement owns its line(s): drop them with their line break.
            if (after < Text.Length && Text[after] == '\r')
            {
                after++;
            }

            if (after < Text.Length && Text[after] == '\n')
            {
                after++;
            }

            return (lineStart, after);
        }
        // Shares a line with other statements: remove it and its ';' separator only.
        if (after < Text.Length && Text[after] == ';')
        {
            after++;
            while (after < Text.Length && Text[after] is ' ' or '\t')
            {
                after++;
            }

            return (e.StatementStart, after);
        }
        return (e.StatementStart, end);
    }

    private string Newline() => Text.Contains("\r\n") ? "\r\n" : "\n";

    private static void ValidateName(string name)
    {
        if (name.Length == 0 || !char.IsAsciiLetter(name[0]) || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            throw new VmDebugException("QemuConfNameInvalid", ErrorKind.InvalidArgument, $"'{name}' is not a valid qemu.conf setting name.", name);
        }
    }

    /// <summary>
    /// Lines like <c>#name = value</c>. A commented list (<c>#x = [</c> ... <c>#]</c>) extends the block to its
    /// closing bracket so an inserted line never lands inside the example.
    /// </summary>
    private static List<LibvirtConfCommentedSetting> FindCommentedSettings(string text)
    {
        var result = new List<LibvirtConfCommentedSetting>();
        int pos = 0, line = 1;
        while (pos < text.Length)
        {
            var eol = text.IndexOf('\n', pos);
            var next = eol < 0 ? text.Length : eol + 1;
            var content = text.AsSpan(pos, (eol < 0 ? text.Length : eol) - pos).TrimEnd('\r');
            if (TryCommentedAssignment(content, out var name, out var valueText, out var tight))
            {
                int blockEnd = next, endLine = line;
                if (valueText.TrimStart().StartsWith('[') && !valueText.Contains(']'))
                {
                    while (blockEnd < text.Length)
                    {
                        var e2 = text.IndexOf('\n', blockEnd);
                        var n2 = e2 < 0 ? text.Length : e2 + 1;
                        var c2 = text.AsSpan(blockEnd, n2 - blockEnd).Trim();
                        if (c2.IsEmpty || c2[0] != '#')
                        {
                            break;
                        }

                        blockEnd = n2;
                        endLine++;
                        if (c2.Contains(']'))
                        {
                            break;
                        }
                    }
                }
                result.Add(new LibvirtConfCommentedSetting(name, valueText, blockEnd, line, tight));
                line = endLine;
                pos = blockEnd;
                line++;
                continue;
            }
            pos = next;
            line++;
        }
        return result;
    }

    private static bool TryCommentedAssignment(ReadOnlySpan<char> line, out string name, out string valueText, out bool tight)
    {
        name = valueText = "";
        tight = false;
        var s = line.TrimStart(" \t");
        if (s.IsEmpty || s[0] != '#')
        {
            return false;
        }

        tight = s.Length > 1 && char.IsAsciiLetter(s[1]);
        s = s[1..].TrimStart(" \t");
        var i = 0;
        if (s.IsEmpty || !char.IsAsciiLetter(s[0]))
        {
            return false;
        }

        while (i < s.Length && (char.IsAsciiLetterOrDigit(s[i]) || s[i] == '_'))
        {
            i++;
        }

        var rest = s[i..].TrimStart(" \t");
        if (rest.IsEmpty || rest[0] != '=')
        {
            return false;
        }

        var value = rest[1..].Trim(" \t");
        // Prose such as "# x = y means ..." is not a setting: a value must start like one.
        if (value.IsEmpty || !(value[0] is '"' or '\'' or '[' or '-' or '+' || char.IsAsciiDigit(value[0])))
        {
            return false;
        }

        name = s[..i].ToString();
        valueText = value.ToString();
        return true;
    }

    /// <summary>A recursive-descent reading of virconf.c's grammar that records source offsets.</summary>
    private sealed class Parser(string text, string path)
    {
        private int _pos;
        private int _line = 1;
        public List<LibvirtConfEntry> Entries { get; } = [];

        private char Cur => _pos < text.Length ? text[_pos] : '\0';
        private bool AtEnd => _pos >= text.Length;
        private static bool IsBlank(char c) => c is ' ' or '\t';
        private static bool IsEol(char c) => c is '\n' or '\r';

        private void SkipBlanks()
        {
            while (!AtEnd && IsBlank(Cur))
            {
                _pos++;
            }
        }
        private void SkipBlanksAndEol()
        {
            while (!AtEnd && (IsBlank(Cur) || IsEol(Cur)))
            {
                if (Cur == '\n')
                {
                    _line++;
                }

                _pos++;
            }
        }

        private LibvirtConfSyntaxException Error(string reason) => new(path, _line, reason);

        public void Run()
        {
            while (!AtEnd)
            {
                SkipBlanksAndEol();
                if (AtEnd)
                {
                    break;
                }

                Statement();
                Separator();
            }
        }

        private void Statement()
        {
            if (Cur == '#')
            {
                while (!AtEnd && !IsEol(Cur))
                {
                    _pos++;
                }

                return;
            }
            int start = _pos, line = _line;
            if (!char.IsAsciiLetter(Cur))
            {
                throw Error("expecting a name");
            }

            while (!AtEnd && (char.IsAsciiLetterOrDigit(Cur) || Cur == '_'))
            {
                _pos++;
            }

            var name = text[start.._pos];
            SkipBlanks();
            if (Cur != '=')
            {
                throw Error("expecting an assignment");
            }

            _pos++;
            SkipBlanks();
            var valueStart = _pos;
            var value = Value();
            var valueEnd = _pos;
            SkipBlanks();
            var statementEnd = valueEnd;
            if (Cur == '#')
            {
                while (!AtEnd && !IsEol(Cur))
                {
                    _pos++;
                }

                statementEnd = _pos;
            }
            Entries.Add(new LibvirtConfEntry(name, value, start, valueStart, valueEnd, statementEnd, line));
        }

        private void Separator()
        {
            SkipBlanks();
            if (AtEnd)
            {
                return;
            }

            if (IsEol(Cur))
            {
                SkipBlanksAndEol();
            }
            else if (Cur == ';') { _pos++; SkipBlanksAndEol(); }
            else
            {
                throw Error("expecting a separator");
            }
        }

        private LibvirtConfValue Value()
        {
            SkipBlanks();
            if (AtEnd)
            {
                throw Error("expecting a value");
            }

            var start = _pos;
            if (Cur is '"' or '\'')
            {
                var s = QuotedString();
                return new LibvirtConfValue(LibvirtConfValueKind.String, text[start.._pos], s, 0, []);
            }
            if (Cur == '[')
            {
                _pos++;
                SkipBlanksAndEol();
                var items = new List<LibvirtConfValue>();
                if (!AtEnd && Cur != ']')
                {
                    items.Add(Value());
                    SkipBlanksAndEol();
                }
                while (!AtEnd && Cur != ']')
                {
                    if (Cur != ',')
                    {
                        throw Error("expecting a separator in list");
                    }

                    _pos++;
                    SkipBlanksAndEol();
                    if (Cur == ']')
                    {
                        break;
                    }

                    items.Add(Value());
                    SkipBlanksAndEol();
                }
                if (Cur != ']')
                {
                    throw Error("list is not closed with ]");
                }

                _pos++;
                return new LibvirtConfValue(LibvirtConfValueKind.List, text[start.._pos], null, 0, items);
            }
            if (char.IsAsciiDigit(Cur) || Cur is '-' or '+')
            {
                var negative = Cur == '-';
                if (Cur is '-' or '+')
                {
                    _pos++;
                }

                if (AtEnd || !char.IsAsciiDigit(Cur))
                {
                    throw Error("unterminated number");
                }

                long n = 0;
                while (!AtEnd && char.IsAsciiDigit(Cur))
                {
                    try { n = checked(n * 10 + (Cur - '0')); }
                    catch (OverflowException) { throw Error("number out of range"); }
                    _pos++;
                }
                return new LibvirtConfValue(LibvirtConfValueKind.Integer, text[start.._pos], null, negative ? -n : n, []);
            }
            throw Error("expecting a value");
        }

        private string QuotedString()
        {
            if (string.CompareOrdinal(text, _pos, "\"\"\"", 0, 3) == 0 && _pos + 6 < text.Length)
            {
                _pos += 3;
                var body = _pos;
                var close = text.IndexOf("\"\"\"", _pos, StringComparison.Ordinal);
                if (close < 0)
                {
                    throw Error("unterminated string");
                }

                _line += text.AsSpan(body, close - body).Count('\n');
                _pos = close + 3;
                return text[body..close];
            }
            var quote = Cur;
            _pos++;
            var begin = _pos;
            while (!AtEnd && Cur != quote && !IsEol(Cur))
            {
                _pos++;
            }

            if (Cur != quote)
            {
                throw Error("unterminated string");
            }

            var s = text[begin.._pos];
            _pos++;
            return s;
        }
    }
}
