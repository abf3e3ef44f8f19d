using System.Globalization;

namespace VmDebug.Engine;

/// <summary>A parameter (cmdlet) or option (CLI) a remedy names; each front end spells it its own way.</summary>
public enum RemedyParameter
{
    Force,
    Format,
    GuestMemoryLayout,
    IncludeGuestMemory,
}

/// <summary>A command a remedy names: a cmdlet in PowerShell, a subcommand of vmdebug on the command line.</summary>
public enum RemedyCommand
{
    ConvertVmcore,
    EnableQemuCoreDump,
}

/// <summary>One front-end name inside a remedy: a command, or a parameter with an optional value.</summary>
public sealed record RemedyTerm
{
    private RemedyTerm(RemedyCommand? command, RemedyParameter? parameter, object? value)
    {
        Command = command;
        Parameter = parameter;
        Value = value;
    }

    public RemedyCommand? Command { get; }
    public RemedyParameter? Parameter { get; }
    /// <summary>The parameter's value (an enum value such as a DumpFormat); null for a switch.</summary>
    public object? Value { get; }

    public static RemedyTerm Of(RemedyCommand command) => new(command, null, null);
    public static RemedyTerm Of(RemedyParameter parameter, object? value = null) => new(null, parameter, value);
}

/// <summary>
/// What the user can do about an error, kept apart from the neutral message: the text is a composite format
/// whose placeholders are <see cref="Terms"/>, so PowerShell shows "-Force" and the CLI "--force".
/// </summary>
public sealed class Remedy
{
    public Remedy(string template, params RemedyTerm[] terms)
    {
        Template = template;
        Terms = terms;
    }

    public string Template { get; }
    public IReadOnlyList<RemedyTerm> Terms { get; }

    public string Render(Func<RemedyTerm, string> spell) =>
        string.Format(CultureInfo.InvariantCulture, Template, Terms.Select(spell).ToArray<object>());
}
