using System.Reflection;

namespace VmDebug.HelpBuilder;

/// <summary>What PowerShell will bind for one cmdlet, read from its compiled attributes.</summary>
internal sealed record CmdletMetadata(
    string Name,
    string Verb,
    string Noun,
    bool SupportsShouldProcess,
    string? DefaultParameterSet,
    IReadOnlyList<string> ParameterSets,
    IReadOnlyList<ParameterMetadata> Parameters,
    IReadOnlyList<string> OutputTypes)
{
    public const string AllParameterSets = "__AllParameterSets";
    private const string Sma = "System.Management.Automation.";

    /// <summary>Every cmdlet class of the assembly, by name.</summary>
    public static IReadOnlyList<CmdletMetadata> ReadAll(Assembly assembly) =>
        assembly.GetTypes()
            .Select(type => (Type: type, Attribute: Find(type.GetCustomAttributesData(), "CmdletAttribute").FirstOrDefault()))
            .Where(t => t.Attribute is not null && !t.Type.IsAbstract)
            .Select(t => Read(t.Type, t.Attribute!))
            .OrderBy(c => c.Name, StringComparer.Ordinal)
            .ToList();

    private static CmdletMetadata Read(Type type, CustomAttributeData cmdlet)
    {
        var verb = (string)cmdlet.ConstructorArguments[0].Value!;
        var noun = (string)cmdlet.ConstructorArguments[1].Value!;
        var parameters = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(ParameterMetadata.TryRead)
            .OfType<ParameterMetadata>()
            .ToList();
        var sets = parameters.SelectMany(p => p.Sets.Keys).Where(s => s != AllParameterSets).Distinct().ToList();
        var defaultSet = Named<string>(cmdlet, "DefaultParameterSetName");
        // A default set no parameter names is still a set PowerShell binds (with the parameters of all sets).
        if (defaultSet is not null && !sets.Contains(defaultSet))
        {
            sets.Add(defaultSet);
        }

        if (sets.Count == 0)
        {
            sets.Add(AllParameterSets);
        }
        // Get-Help lists the default set first, as PowerShell's own syntax does.
        sets = sets.OrderBy(s => s == defaultSet ? 0 : 1).ThenBy(s => s, StringComparer.Ordinal).ToList();
        var outputs = Find(type.GetCustomAttributesData(), "OutputTypeAttribute")
            .SelectMany(a => a.ConstructorArguments)
            .SelectMany(arg => arg.Value is IEnumerable<CustomAttributeTypedArgument> many ? many.Select(m => m.Value) : [arg.Value])
            .Select(v => v is Type t ? t.FullName! : v?.ToString() ?? "")
            .ToList();
        return new CmdletMetadata($"{verb}-{noun}", verb, noun, Named<bool>(cmdlet, "SupportsShouldProcess"), defaultSet, sets, parameters, outputs);
    }

    /// <summary>The parameters of one set, in the order Get-Help shows them: by position, then as declared.</summary>
    public IEnumerable<(ParameterMetadata Parameter, ParameterSetEntry Entry)> ParametersOf(string set) =>
        Parameters
            .Select((p, index) => (Parameter: p, Index: index, Entry: p.EntryFor(set)))
            .Where(t => t.Entry is not null)
            .OrderBy(t => t.Entry!.Position ?? int.MaxValue)
            .ThenBy(t => t.Index)
            .Select(t => (t.Parameter, t.Entry!));

    internal static IEnumerable<CustomAttributeData> Find(IEnumerable<CustomAttributeData> attributes, string name) =>
        attributes.Where(a => a.AttributeType.FullName == Sma + name);

    internal static T? Named<T>(CustomAttributeData attribute, string name) =>
        attribute.NamedArguments.Where(a => a.MemberName == name).Select(a => (T?)a.TypedValue.Value).FirstOrDefault();
}
