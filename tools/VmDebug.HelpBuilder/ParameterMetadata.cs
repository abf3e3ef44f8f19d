using System.Reflection;

namespace VmDebug.HelpBuilder;

/// <summary>One cmdlet parameter: its type, aliases, wildcard support, and how it binds in each parameter set.</summary>
internal sealed record ParameterMetadata(
    string Name,
    Type Type,
    IReadOnlyList<string> Aliases,
    bool SupportsWildcards,
    IReadOnlyList<string> AllowedValues,
    IReadOnlyDictionary<string, ParameterSetEntry> Sets)
{
    public static ParameterMetadata? TryRead(PropertyInfo property)
    {
        var attributes = property.GetCustomAttributesData();
        var parameterAttributes = CmdletMetadata.Find(attributes, "ParameterAttribute").ToList();
        if (parameterAttributes.Count == 0)
        {
            return null;
        }

        var sets = new Dictionary<string, ParameterSetEntry>(StringComparer.Ordinal);
        foreach (var a in parameterAttributes)
        {
            var position = CmdletMetadata.Named<int?>(a, "Position");
            sets[CmdletMetadata.Named<string>(a, "ParameterSetName") ?? CmdletMetadata.AllParameterSets] = new ParameterSetEntry(
                CmdletMetadata.Named<bool>(a, "Mandatory"),
                position is null or int.MinValue ? null : position,
                CmdletMetadata.Named<bool>(a, "ValueFromPipeline"),
                CmdletMetadata.Named<bool>(a, "ValueFromPipelineByPropertyName"));
        }

        var aliases = CmdletMetadata.Find(attributes, "AliasAttribute")
            .SelectMany(a => a.ConstructorArguments)
            .SelectMany(arg => arg.Value is IEnumerable<CustomAttributeTypedArgument> many ? many.Select(m => (string)m.Value!) : [(string)arg.Value!])
            .ToList();
        var wildcards = CmdletMetadata.Find(attributes, "SupportsWildcardsAttribute").Any();
        var validateSet = CmdletMetadata.Find(attributes, "ValidateSetAttribute")
            .SelectMany(a => a.ConstructorArguments)
            .SelectMany(arg => arg.Value is IEnumerable<CustomAttributeTypedArgument> many ? many.Select(m => (string)m.Value!) : [(string)arg.Value!])
            .ToList();
        var element = ElementType(property.PropertyType);
        var allowed = validateSet.Count > 0 ? validateSet
            : element.IsEnum ? element.GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => f.Name).ToList()
            : [];
        return new ParameterMetadata(property.Name, property.PropertyType, aliases, wildcards, allowed, sets);
    }

    public ParameterSetEntry? EntryFor(string set) =>
        Sets.TryGetValue(set, out var entry) ? entry : Sets.GetValueOrDefault(CmdletMetadata.AllParameterSets);

    public bool IsSwitch => Type.FullName == "System.Management.Automation.SwitchParameter";

    /// <summary>Required when mandatory in any of its sets (the syntax blocks show each set exactly).</summary>
    public bool Required => Sets.Values.Any(e => e.Mandatory);

    /// <summary>The lowest position any set gives it, or null (named).</summary>
    public int? Position => Sets.Values.Select(e => e.Position).Where(p => p is not null).Min();

    public string PipelineInput => PipelineText(Sets.Values.Any(e => e.ByValue), Sets.Values.Any(e => e.ByPropertyName));

    public static string PipelineText(bool byValue, bool byPropertyName) => (byValue, byPropertyName) switch
    {
        (true, true) => "True (ByPropertyName, ByValue)",
        (true, false) => "True (ByValue)",
        (false, true) => "True (ByPropertyName)",
        _ => "False",
    };

    /// <summary>The short type name Get-Help shows: String, Int32[], KmsgLevel (Nullable unwrapped).</summary>
    public string TypeName => ShortName(Type);

    /// <summary>The full type name, Nullable unwrapped: System.String, VmDebug.KmsgLevel.</summary>
    public string FullTypeName => Unwrap(Type).FullName ?? Type.Name;

    private static Type Unwrap(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition().FullName == "System.Nullable`1" ? type.GetGenericArguments()[0] : type;

    private static Type ElementType(Type type) => Unwrap(type.IsArray ? type.GetElementType()! : type);

    private static string ShortName(Type type)
    {
        type = Unwrap(type);
        return type.IsArray ? ShortName(type.GetElementType()!) + "[]" : type.Name;
    }
}
