namespace VmDebug.Engine;

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
