using System.Collections.Specialized;
using System.Management.Automation;

namespace VmDebug.Commands;

/// <summary>Translates between PowerShell's property bags and the engine's plain values.</summary>
internal static class PowerShellValues
{
    /// <summary>Strips PSObject wrappers; a PSCustomObject (ConvertFrom-Json output) becomes an ordered dictionary of its properties.</summary>
    public static object Unwrap(object value)
    {
        if (value is not PSObject wrapped)
        {
            return value;
        }

        if (wrapped.BaseObject is not PSCustomObject)
        {
            return wrapped.BaseObject;
        }

        var members = new OrderedDictionary(StringComparer.OrdinalIgnoreCase);
        foreach (var property in wrapped.Properties)
        {
            members[property.Name] = property.Value;
        }

        return members;
    }

    /// <summary>A PSCustomObject with the members in order, so replies format and navigate like ConvertFrom-Json output.</summary>
    public static object ToPSCustomObject(IEnumerable<KeyValuePair<string, object?>> members)
    {
        var result = new PSObject();
        foreach (var (name, value) in members)
        {
            result.Properties.Add(new PSNoteProperty(name, value));
        }

        return result;
    }
}
