using System.Globalization;

namespace VmDebug.Engine;

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
