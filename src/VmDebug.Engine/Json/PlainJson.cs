using System.Collections.Specialized;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VmDebug.Engine.Json;

/// <summary>
/// Turns JSON into plain .NET values (ordered dictionaries, arrays, long/double/string/bool) that PowerShell
/// displays and dot-navigates natively, so raw QMP replies need no SMA-specific conversion.
/// </summary>
public static class PlainJson
{
    public static object? ToPlain(JsonNode? node) => ToPlain(node, null);

    /// <summary>
    /// As <see cref="ToPlain(JsonNode?)"/>, with JSON objects built by <paramref name="makeObject"/> from their members
    /// in order (a front-end's own property bag, such as PowerShell's PSCustomObject); null: ordered dictionaries.
    /// </summary>
    public static object? ToPlain(JsonNode? node, Func<IEnumerable<KeyValuePair<string, object?>>, object>? makeObject) => node switch
    {
        null => null,
        JsonObject obj when makeObject is not null => makeObject(obj.Select(m => KeyValuePair.Create(m.Key, ToPlain(m.Value, makeObject)))),
        JsonObject obj => ToDictionary(obj),
        JsonArray array => array.Select(item => ToPlain(item, makeObject)).ToArray(),
        JsonValue value => value.GetValueKind() switch
        {
            JsonValueKind.String => value.GetValue<string>(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            // Boxed per branch: a conditional of long, ulong and double would make every number a double,
            // losing integers above 2^53 (addresses, sizes).
            JsonValueKind.Number => value.TryGetValue<long>(out var l) ? (object)l
                : value.TryGetValue<ulong>(out var u) ? u
                : value.GetValue<double>(),
            _ => null,
        },
        _ => throw new ArgumentOutOfRangeException(nameof(node), node.GetType().Name, "not a JSON node type"),
    };

    /// <summary>
    /// The reverse, for arguments a script builds (hashtables, arrays, numbers, strings, booleans).
    /// <paramref name="unwrap"/> lets a front-end strip its own wrappers (PowerShell's PSObject) first.
    /// </summary>
    public static JsonNode? FromPlain(object? value, Func<object, object>? unwrap = null)
    {
        if (value is not null && unwrap is not null)
        {
            value = unwrap(value);
        }

        return value switch
        {
            null => null,
            JsonNode node => node.DeepClone(),
            string s => JsonValue.Create(s),
            bool b => JsonValue.Create(b),
            char c => JsonValue.Create(c.ToString()),
            Enum e => JsonValue.Create(e.ToString()),
            System.Collections.IDictionary dictionary => new JsonObject(dictionary.Keys.Cast<object>()
                .Select(k => KeyValuePair.Create(k.ToString() ?? "", FromPlain(dictionary[k], unwrap)))),
            System.Collections.IEnumerable items => new JsonArray(items.Cast<object?>().Select(i => FromPlain(i, unwrap)).ToArray()),
            sbyte or byte or short or ushort or int or uint or long => JsonValue.Create(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)),
            ulong u => JsonValue.Create(u),
            float or double or decimal => JsonValue.Create(Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture)),
            _ => throw new VmDebugException("JsonValueUnsupported", ErrorKind.InvalidArgument,
                $"A value of type {value.GetType().FullName} cannot be sent as JSON; use strings, numbers, booleans, arrays or hashtables.", value),
        };
    }

    /// <summary>Keeps the order QEMU sent the members in; case-insensitive like PowerShell property access.</summary>
    public static OrderedDictionary ToDictionary(JsonObject obj)
    {
        var result = new OrderedDictionary(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in obj)
        {
            result.Add(key, ToPlain(value));
        }

        return result;
    }
}
