using System.Text;

namespace VmDebug.HelpBuilder;

/// <summary>
/// Renders an about topic from markdown (platyPS's about layout: "# about_Name", "## about_Name", then "# SHORT
/// DESCRIPTION", "# LONG DESCRIPTION", "## subsection", "# SEE ALSO") as the plain text Get-Help shows: headings in
/// capitals at the margin, subsections indented by 2, text wrapped at 80 columns and indented by 4, code by 8.
/// </summary>
internal static class AboutTopicWriter
{
    private const int Width = 80;

    public static (string Name, string Text) Render(string path, string markdown)
    {
        var sections = MarkdownSection.Parse(path, markdown);
        var title = sections.FirstOrDefault(s => s.Level == 1)
            ?? throw new HelpMarkdownException(path, 1, "no '# about_Name' heading");
        var name = title.Title;
        var text = new StringBuilder();
        text.Append("TOPIC\n    ").Append(name).Append('\n');
        foreach (var section in sections.Where(s => s != title && s.Level > 0))
        {
            if (section.Level == 2 && section.Title == name)
            {
                continue;
            }

            var indent = section.Level == 1 ? 4 : 6;
            text.Append('\n');
            if (section.Level == 1)
            {
                text.Append(section.Title.ToUpperInvariant()).Append('\n');
            }
            else
            {
                text.Append("  ").Append(section.Title).Append('\n');
            }

            foreach (var block in section.Blocks)
            {
                if (block.IsCode)
                {
                    text.Append('\n');
                    foreach (var line in block.Text.Split('\n'))
                    {
                        text.Append(line.Length == 0 ? "" : new string(' ', indent + 4) + line).Append('\n');
                    }

                    text.Append('\n');
                }
                else
                {
                    var paragraph = block.Text.StartsWith("- ", StringComparison.Ordinal) ? block.Text[2..] : block.Text;
                    Wrap(text, paragraph, indent);
                    if (!block.Text.StartsWith("- ", StringComparison.Ordinal))
                    {
                        text.Append('\n');
                    }
                }
            }
        }

        var rendered = string.Join('\n', text.ToString().Split('\n').Select(l => l.TrimEnd()));
        while (rendered.Contains("\n\n\n", StringComparison.Ordinal))
        {
            rendered = rendered.Replace("\n\n\n", "\n\n", StringComparison.Ordinal);
        }

        return (name, rendered.TrimEnd() + "\n");
    }

    private static void Wrap(StringBuilder text, string paragraph, int indent)
    {
        var line = new StringBuilder();
        foreach (var word in paragraph.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > 0 && indent + line.Length + 1 + word.Length > Width)
            {
                text.Append(' ', indent).Append(line).Append('\n');
                line.Clear();
            }

            if (line.Length > 0)
            {
                line.Append(' ');
            }

            line.Append(word);
        }

        if (line.Length > 0)
        {
            text.Append(' ', indent).Append(line).Append('\n');
        }
    }
}
