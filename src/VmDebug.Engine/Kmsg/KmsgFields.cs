using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace VmDebug;

/// <summary>
/// The continuation lines of a kmsg record (<c>SUBSYSTEM=pci</c>, <c>DEVICE=+pci:0000:00:01.0</c>). Its text form is
/// <c>KEY=value; KEY=value</c>, so Export-Csv and string interpolation show the fields instead of a type name.
/// </summary>
public sealed class KmsgFields : IReadOnlyDictionary<string, string>
{
    public static readonly KmsgFields None = new(new Dictionary<string, string>());

    private readonly IReadOnlyDictionary<string, string> _fields;

    public KmsgFields(IReadOnlyDictionary<string, string> fields) => _fields = fields;

    public string this[string key] => _fields[key];
    public IEnumerable<string> Keys => _fields.Keys;
    public IEnumerable<string> Values => _fields.Values;
    public int Count => _fields.Count;
    public bool ContainsKey(string key) => _fields.ContainsKey(key);
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value) => _fields.TryGetValue(key, out value);
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _fields.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Guest text: control characters escaped, as everywhere a record is shown.</summary>
    public override string ToString() =>
        string.Join("; ", _fields.Select(f => $"{KmsgText.EscapeForDisplay(f.Key)}={KmsgText.EscapeForDisplay(f.Value)}"));
}
