using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace VmDebug;

/// <summary>
/// The continuation lines of a kmsg record (<c>SUBSYSTEM=pci</c>, <c>DEVICE=+pci:0000:00:01.0</c>). Its text form is
/// <c>KEY=value; KEY=value</c>, so Export-Csv and string interpolation show the fields instead of a type name.
/// Read-only <see cref="IDictionary"/> too, so PowerShell serializes it as a dictionary and remoting keeps it.
/// </summary>
public sealed class KmsgFields : IReadOnlyDictionary<string, string>, IDictionary
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

    bool IDictionary.IsFixedSize => true;
    bool IDictionary.IsReadOnly => true;
    ICollection IDictionary.Keys => _fields.Keys.ToArray();
    ICollection IDictionary.Values => _fields.Values.ToArray();
    bool ICollection.IsSynchronized => false;
    object ICollection.SyncRoot => this;
    object? IDictionary.this[object key]
    {
        get => key is string name && _fields.TryGetValue(name, out var value) ? value : null;
        set => throw ReadOnly();
    }

    bool IDictionary.Contains(object key) => key is string name && _fields.ContainsKey(name);
    IDictionaryEnumerator IDictionary.GetEnumerator() =>
        _fields.ToDictionary(f => (object)f.Key, f => (object?)f.Value).GetEnumerator();
    void ICollection.CopyTo(Array array, int index) =>
        _fields.Select(f => new DictionaryEntry(f.Key, f.Value)).ToArray().CopyTo(array, index);
    void IDictionary.Add(object key, object? value) => throw ReadOnly();
    void IDictionary.Clear() => throw ReadOnly();
    void IDictionary.Remove(object key) => throw ReadOnly();

    private static NotSupportedException ReadOnly() => new("A kmsg record's fields are read-only.");

    /// <summary>Guest text: control characters escaped, as everywhere a record is shown.</summary>
    public override string ToString() =>
        string.Join("; ", _fields.Select(f => $"{KmsgText.EscapeForDisplay(f.Key)}={KmsgText.EscapeForDisplay(f.Value)}"));
}
