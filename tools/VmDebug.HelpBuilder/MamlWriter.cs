using System.Xml.Linq;

namespace VmDebug.HelpBuilder;

/// <summary>Writes MAML (VmDebug.dll-Help.xml) that Get-Help reads: metadata from the cmdlet, prose from markdown.</summary>
internal static class MamlWriter
{
    private static readonly XNamespace Msh = "http://msh";
    private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    // ShouldProcess adds these; their help is PowerShell's standard text.
    private static readonly (string Name, string Text)[] ShouldProcessParameters =
    [
        ("WhatIf", "Shows what would happen if the cmdlet runs. The cmdlet is not run."),
        ("Confirm", "Prompts you for confirmation before running the cmdlet."),
    ];

    public static XDocument Write(IEnumerable<(CmdletMetadata Cmdlet, CommandHelp Help)> commands) =>
        new(new XDeclaration("1.0", "utf-8", null),
            new XElement(Msh + "helpItems", new XAttribute("schema", "maml"),
                new XAttribute(XNamespace.Xmlns + "maml", Maml), new XAttribute(XNamespace.Xmlns + "command", Command),
                new XAttribute(XNamespace.Xmlns + "dev", Dev),
                commands.Select(c => CommandElement(c.Cmdlet, c.Help))));

    private static XElement CommandElement(CmdletMetadata cmdlet, CommandHelp help) =>
        new(Command + "command",
            new XElement(Command + "details",
                new XElement(Command + "name", cmdlet.Name),
                new XElement(Command + "verb", cmdlet.Verb),
                new XElement(Command + "noun", cmdlet.Noun),
                Description(help.Synopsis)),
            Description(help.Description),
            new XElement(Command + "syntax", cmdlet.ParameterSets.Select(set => SyntaxItem(cmdlet, set))),
            new XElement(Command + "parameters",
                cmdlet.Parameters.Select(p => ParameterElement(p, help)),
                ShouldProcess(cmdlet).Select(w => SwitchElement(w.Name, w.Text))),
            new XElement(Command + "inputTypes",
                (help.Inputs.Count > 0 ? help.Inputs : [("None", ["This cmdlet takes no pipeline input."])])
                    .Select(i => new XElement(Command + "inputType", TypeElement(i.Type), Description(i.Text)))),
            new XElement(Command + "returnValues",
                help.Outputs.Select(o => new XElement(Command + "returnValue", TypeElement(o.Type), Description(o.Text)))),
            help.Notes.Count > 0 ? new XElement(Maml + "alertSet", new XElement(Maml + "alert", Paragraphs(help.Notes))) : null,
            new XElement(Command + "examples", help.Examples.Select((e, i) =>
                new XElement(Command + "example",
                    new XElement(Maml + "title", $"-------------------------- Example {i + 1}: {e.Title} --------------------------"),
                    new XElement(Dev + "code", e.Code),
                    new XElement(Dev + "remarks", Paragraphs(e.Remarks))))),
            new XElement(Command + "relatedLinks", help.Links.Select(l =>
                new XElement(Maml + "navigationLink", new XElement(Maml + "linkText", l.Text), new XElement(Maml + "uri", l.Uri)))));

    private static IEnumerable<(string Name, string Text)> ShouldProcess(CmdletMetadata cmdlet) =>
        cmdlet.SupportsShouldProcess ? ShouldProcessParameters : [];

    private static XElement SyntaxItem(CmdletMetadata cmdlet, string set) =>
        new(Command + "syntaxItem",
            new XElement(Maml + "name", cmdlet.Name),
            cmdlet.ParametersOf(set).Select(t => new XElement(Command + "parameter",
                Attributes(t.Entry.Mandatory, t.Parameter, t.Entry.Position,
                    ParameterMetadata.PipelineText(t.Entry.ByValue, t.Entry.ByPropertyName)),
                new XElement(Maml + "name", t.Parameter.Name),
                ValueElements(t.Parameter))),
            ShouldProcess(cmdlet).Select(w => new XElement(Command + "parameter", SwitchAttributes(), new XElement(Maml + "name", w.Name))));

    private static XElement ParameterElement(ParameterMetadata parameter, CommandHelp help)
    {
        help.Parameters.TryGetValue(parameter.Name, out var prose);
        return new XElement(Command + "parameter",
            Attributes(parameter.Required, parameter, parameter.Position, parameter.PipelineInput),
            new XElement(Maml + "name", parameter.Name),
            Description(prose.Text ?? []),
            ValueElements(parameter),
            TypeElement(parameter.FullTypeName),
            new XElement(Dev + "defaultValue", prose.DefaultValue ?? "None"));
    }

    private static XElement SwitchElement(string name, string text) =>
        new(Command + "parameter", SwitchAttributes(),
            new XElement(Maml + "name", name),
            Description([text]),
            TypeElement("System.Management.Automation.SwitchParameter"),
            new XElement(Dev + "defaultValue", "False"));

    private static object[] Attributes(bool required, ParameterMetadata parameter, int? position, string pipeline) =>
    [
        new XAttribute("required", required ? "true" : "false"),
        new XAttribute("variableLength", parameter.Type.IsArray ? "true" : "false"),
        new XAttribute("globbing", parameter.SupportsWildcards ? "true" : "false"),
        new XAttribute("pipelineInput", pipeline),
        new XAttribute("position", position?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "named"),
        new XAttribute("aliases", parameter.Aliases.Count > 0 ? string.Join(", ", parameter.Aliases) : "none"),
    ];

    private static object[] SwitchAttributes() =>
    [
        new XAttribute("required", "false"), new XAttribute("variableLength", "false"), new XAttribute("globbing", "false"),
        new XAttribute("pipelineInput", "False"), new XAttribute("position", "named"), new XAttribute("aliases", "none"),
    ];

    // A switch takes no value; an enum or ValidateSet parameter lists its values, which Get-Help shows as {A | B}.
    private static IEnumerable<XElement> ValueElements(ParameterMetadata parameter)
    {
        if (parameter.IsSwitch)
        {
            yield break;
        }

        if (parameter.AllowedValues.Count > 0)
        {
            yield return new XElement(Command + "parameterValueGroup", parameter.AllowedValues.Select(v =>
                new XElement(Command + "parameterValue", new XAttribute("required", "false"), new XAttribute("variableLength", "false"), v)));
        }

        yield return new XElement(Command + "parameterValue", new XAttribute("required", "true"),
            new XAttribute("variableLength", parameter.Type.IsArray ? "true" : "false"), parameter.TypeName);
    }

    private static XElement TypeElement(string type) => new(Dev + "type", new XElement(Maml + "name", type));

    private static XElement Description(IEnumerable<string> paragraphs) => new(Maml + "description", Paragraphs(paragraphs));

    private static IEnumerable<XElement> Paragraphs(IEnumerable<string> paragraphs) =>
        paragraphs.Select(p => new XElement(Maml + "para", p));
}
