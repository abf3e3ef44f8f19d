namespace VmDebug.HelpBuilder;

/// <summary>A heading (level, text, line) with the blocks under it up to the next heading.</summary>
internal sealed record MarkdownSection(int Level, string Title, int Line, List<MarkdownBlock> Blocks)
{
    public IEnumerable<string> Paragraphs => Blocks.Where(b => !b.IsCode).Select(b => b.Text);

    /// <summary>
    /// Splits a markdown file into headed sections of paragraphs and code blocks. A leading YAML front matter (platyPS
    /// writes one) is skipped. Blank lines end paragraphs; lines of one paragraph are joined with spaces.
    /// </summary>
    public static List<MarkdownSection> Parse(string path, string text)
    {
        var lines = text.Replace("\r\n", "\n").Split('\n');
        var sections = new List<MarkdownSection> { new(0, "", 1, []) };
        var i = 0;
        if (lines.Length > 0 && lines[0].Trim() == "---")
        {
            i = Array.FindIndex(lines, 1, l => l.Trim() == "---");
            if (i < 0)
            {
                throw new HelpMarkdownException(path, 1, "front matter opened with --- is never closed");
            }

            i++;
        }

        var paragraph = new List<string>();
        var paragraphLine = 0;
        void EndParagraph()
        {
            if (paragraph.Count > 0)
            {
                sections[^1].Blocks.Add(new MarkdownBlock(string.Join(' ', paragraph), false, "", paragraphLine));
            }

            paragraph.Clear();
        }

        for (; i < lines.Length; i++)
        {
            var line = lines[i];
            var trimmed = line.Trim();
            if (trimmed.StartsWith("```", StringComparison.Ordinal))
            {
                EndParagraph();
                var start = i + 1;
                var end = Array.FindIndex(lines, start, l => l.Trim() == "```");
                if (end < 0)
                {
                    throw new HelpMarkdownException(path, i + 1, "code block opened with ``` is never closed");
                }

                sections[^1].Blocks.Add(new MarkdownBlock(string.Join('\n', lines[start..end]), true, trimmed[3..].Trim(), i + 1));
                i = end;
            }
            else if (trimmed.StartsWith('#'))
            {
                EndParagraph();
                var level = trimmed.TakeWhile(c => c == '#').Count();
                sections.Add(new MarkdownSection(level, trimmed[level..].Trim(), i + 1, []));
            }
            else if (trimmed.Length == 0)
            {
                EndParagraph();
            }
            else
            {
                // A list item is a paragraph of its own.
                if (trimmed.StartsWith("- ", StringComparison.Ordinal))
                {
                    EndParagraph();
                }

                if (paragraph.Count == 0)
                {
                    paragraphLine = i + 1;
                }

                paragraph.Add(trimmed);
            }
        }

        EndParagraph();
        return sections;
    }
}
