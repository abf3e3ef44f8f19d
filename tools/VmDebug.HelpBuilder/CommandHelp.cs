namespace VmDebug.HelpBuilder;

/// <summary>
/// The prose of one cmdlet's help, from docs/en-US/&lt;Cmdlet&gt;.md in platyPS's layout: SYNOPSIS, DESCRIPTION,
/// EXAMPLES (### Example N: title, a code block, remarks), PARAMETERS (### -Name, prose, and optionally a yaml block
/// holding only "Default value:"), INPUTS and OUTPUTS (### type, prose), NOTES, RELATED LINKS.
/// Everything PowerShell binds (syntax, required, position, pipeline input, aliases, wildcards, types) comes from the
/// compiled cmdlet, so a SYNTAX section or other yaml keys are refused: they would be a second copy that drifts.
/// </summary>
internal sealed class CommandHelp
{
    public required string Name { get; init; }
    public required string Path { get; init; }
    public List<string> Synopsis { get; } = [];
    public List<string> Description { get; } = [];
    public List<(string Title, string Code, List<string> Remarks)> Examples { get; } = [];
    public Dictionary<string, (List<string> Text, string? DefaultValue)> Parameters { get; } = new(StringComparer.OrdinalIgnoreCase);
    public List<(string Type, List<string> Text)> Inputs { get; } = [];
    public List<(string Type, List<string> Text)> Outputs { get; } = [];
    public List<string> Notes { get; } = [];
    public List<(string Text, string Uri)> Links { get; } = [];

    public static CommandHelp Parse(string path, string text)
    {
        var sections = MarkdownSection.Parse(path, text);
        var title = sections.FirstOrDefault(s => s.Level == 1)
            ?? throw new HelpMarkdownException(path, 1, "no '# <Cmdlet-Name>' heading");
        var help = new CommandHelp { Name = title.Title, Path = path };
        string? top = null;
        foreach (var section in sections.Where(s => s.Level >= 2))
        {
            if (section.Level == 2)
            {
                top = section.Title.ToUpperInvariant();
                var prose = section.Blocks.Select(b => b.Text).ToList();
                switch (top)
                {
                    case "SYNOPSIS": help.Synopsis.AddRange(prose); break;
                    case "DESCRIPTION": help.Description.AddRange(prose); break;
                    case "NOTES": help.Notes.AddRange(prose); break;
                    case "RELATED LINKS": help.Links.AddRange(section.Paragraphs.Select(ParseLink)); break;
                    case "EXAMPLES" or "PARAMETERS" or "INPUTS" or "OUTPUTS": break;
                    case "SYNTAX":
                        throw new HelpMarkdownException(path, section.Line, "remove the SYNTAX section: the syntax is generated from the compiled cmdlet");
                    default:
                        throw new HelpMarkdownException(path, section.Line, $"unknown section '## {section.Title}'");
                }
                continue;
            }

            switch (top)
            {
                case "EXAMPLES":
                    var code = section.Blocks.FirstOrDefault(b => b.IsCode)
                        ?? throw new HelpMarkdownException(path, section.Line, $"example '{section.Title}' has no code block");
                    var colon = section.Title.IndexOf(':');
                    help.Examples.Add((colon >= 0 ? section.Title[(colon + 1)..].Trim() : section.Title, code.Text,
                        section.Blocks.Where(b => b != code).Select(b => b.Text).ToList()));
                    break;
                case "PARAMETERS":
                    if (section.Title == "CommonParameters")
                    {
                        break;
                    }

                    if (!section.Title.StartsWith('-'))
                    {
                        throw new HelpMarkdownException(path, section.Line, $"parameter heading '### {section.Title}' must be '### -Name'");
                    }

                    help.Parameters[section.Title[1..]] = (section.Paragraphs.ToList(), DefaultValue(path, section));
                    break;
                case "INPUTS":
                    help.Inputs.Add((section.Title, section.Paragraphs.ToList()));
                    break;
                case "OUTPUTS":
                    help.Outputs.Add((section.Title, section.Paragraphs.ToList()));
                    break;
                default:
                    throw new HelpMarkdownException(path, section.Line, $"'### {section.Title}' belongs under EXAMPLES, PARAMETERS, INPUTS or OUTPUTS");
            }
        }

        return help;
    }

    private static string? DefaultValue(string path, MarkdownSection section)
    {
        string? value = null;
        foreach (var block in section.Blocks.Where(b => b.IsCode))
        {
            if (block.Language != "yaml")
            {
                throw new HelpMarkdownException(path, block.Line, "a parameter section holds prose and at most a yaml block with 'Default value:'");
            }

            foreach (var line in block.Text.Split('\n').Where(l => l.Trim().Length > 0))
            {
                var colon = line.IndexOf(':');
                var key = colon < 0 ? line.Trim() : line[..colon].Trim();
                if (key != "Default value")
                {
                    throw new HelpMarkdownException(path, block.Line,
                        $"remove '{key}' from the yaml block: it is generated from the compiled cmdlet (only 'Default value:' is written by hand)");
                }

                value = line[(colon + 1)..].Trim();
            }
        }

        return value;
    }

    // "[text](uri)" or plain text, one per paragraph.
    private static (string, string) ParseLink(string paragraph)
    {
        var p = paragraph.TrimStart('-', ' ');
        if (p.StartsWith('[') && p.IndexOf("](", StringComparison.Ordinal) is var mid and > 0 && p.EndsWith(')'))
        {
            return (p[1..mid], p[(mid + 2)..^1]);
        }

        return (p, "");
    }
}
