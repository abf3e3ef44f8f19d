using System.Collections;
using System.Collections.Specialized;
using System.Globalization;
using System.Management.Automation;
using System.Reflection;

namespace VmDebug.Commands;

/// <summary>
/// Rebuilds VmDebug results that crossed a process boundary (remoting, Start-Job, Import-Clixml) as the live types, so
/// they format with their views and filter as typed values: a KmsgRecord's Level compares as a level, not as a string,
/// and times, sizes and repairs keep their types. VmDebug.Types.ps1xml (generated at build time) names every result type
/// as "TargetTypeForDeserialization" of its "Deserialized." form and registers this converter for it; the sending side
/// serializes those types deep enough (SerializationDepth) that nested values arrive as values, not as ToString text.
/// PowerShell rehydrates in jobs and Import-Clixml; over SSH remoting the same types file gives the deserialized form
/// typed properties instead.
/// Rehydration is best effort per property: a value that does not convert is left at its default.
/// </summary>
public sealed class DeserializedResultConverter : PSTypeConverter
{
    private const string DeserializedPrefix = "Deserialized.";
    private const string SerializedPrefix = "Serialized";
    // Deserialized data comes from another host: bound how deep nested values are followed.
    private const int MaxDepth = 8;

    public override bool CanConvertFrom(object sourceValue, Type destinationType) =>
        sourceValue is PSObject source && IsResultType(destinationType)
        && source.TypeNames.Contains(DeserializedPrefix + destinationType.FullName);

    public override object ConvertFrom(object sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase) =>
        Rehydrate((PSObject)sourceValue, destinationType, 0)
        ?? throw new PSInvalidCastException($"A deserialized {destinationType.FullName} cannot be rebuilt.");

    public override bool CanConvertTo(object sourceValue, Type destinationType) => false;

    public override object ConvertTo(object sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase) =>
        throw new NotSupportedException();

    private static bool IsResultType(Type type) => type.Namespace == "VmDebug" && type.IsClass && !type.IsAbstract;

    private static object? Rehydrate(PSObject source, Type type, int depth)
    {
        var values = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in source.Properties)
        {
            try { values[property.Name] = property.Value; }
            catch (GetValueException) { }
        }

        // Enum and DateTimeOffset properties travel as Serialized<Name> (see VmDebug.Types.ps1xml).
        foreach (var (name, value) in values.Where(v => v.Key.StartsWith(SerializedPrefix, StringComparison.Ordinal)).ToList())
        {
            values.TryAdd(name[SerializedPrefix.Length..], value);
        }

        // Constructor types (KmsgRecord, VmcoreRepair): the constructor whose parameters the properties fill best.
        var constructor = type.GetConstructors()
            .Where(c => c.GetParameters().All(p => p.HasDefaultValue || values.ContainsKey(p.Name!)))
            .MaxBy(c => c.GetParameters().Length);
        if (constructor is null)
        {
            return null;
        }

        var arguments = constructor.GetParameters()
            .Select(p => values.TryGetValue(p.Name!, out var v) ? Convert(v, p.ParameterType, depth) : p.DefaultValue)
            .ToArray();
        var result = constructor.Invoke(arguments);

        // Init-only types (GuestMemoryDump, GuestPanicEvent): the settable properties the constructor did not take.
        var taken = constructor.GetParameters().Select(p => p.Name!).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.SetMethod is null || taken.Contains(property.Name) || !values.TryGetValue(property.Name, out var value))
            {
                continue;
            }

            property.SetValue(result, Convert(value, property.PropertyType, depth));
        }

        return result;
    }

    private static object? Convert(object? value, Type target, int depth)
    {
        try
        {
            return ConvertOrThrow(value, target, depth + 1);
        }
        catch (Exception e) when (e is PSInvalidCastException or InvalidCastException or FormatException or ArgumentException
                                      or OverflowException or TargetInvocationException or NotSupportedException)
        {
            return target.IsValueType ? Activator.CreateInstance(target) : null;
        }
    }

    private static object? ConvertOrThrow(object? value, Type target, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new NotSupportedException("nested too deeply");
        }

        if (value is PSObject wrapped)
        {
            if (target.IsInstanceOfType(wrapped.BaseObject))
            {
                return wrapped.BaseObject;
            }

            if (IsResultType(target) && wrapped.TypeNames.Contains(DeserializedPrefix + target.FullName))
            {
                return Rehydrate(wrapped, target, depth);
            }

            if (wrapped.BaseObject is not PSCustomObject)
            {
                value = wrapped.BaseObject;
            }
        }

        if (value is null)
        {
            return target.IsValueType && Nullable.GetUnderlyingType(target) is null ? Activator.CreateInstance(target) : null;
        }

        if (target.IsInstanceOfType(value))
        {
            return value;
        }

        var underlying = Nullable.GetUnderlyingType(target);
        if (underlying is not null)
        {
            return ConvertOrThrow(value, underlying, depth);
        }

        if (target.IsEnum)
        {
            return value is string name ? Enum.Parse(target, name, ignoreCase: true) : Enum.ToObject(target, value);
        }

        if (target == typeof(DateTimeOffset))
        {
            return ToDateTimeOffset(value);
        }

        if (target == typeof(OrderedDictionary) && value is IDictionary ordered)
        {
            var copy = new OrderedDictionary();
            foreach (DictionaryEntry entry in ordered)
            {
                copy[entry.Key] = entry.Value is PSObject p ? p.BaseObject : entry.Value;
            }

            return copy;
        }

        if (DictionaryValueType(target) is { } valueType && value is IDictionary dictionary)
        {
            var copy = (IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(typeof(string), valueType))!;
            foreach (DictionaryEntry entry in dictionary)
            {
                copy[entry.Key.ToString()!] = ConvertOrThrow(entry.Value, valueType, depth);
            }

            return copy;
        }

        if (ListElementType(target) is { } elementType && value is IEnumerable items and not string)
        {
            var converted = items.Cast<object?>().Select(i => ConvertOrThrow(i, elementType, depth)).ToList();
            var array = Array.CreateInstance(elementType, converted.Count);
            for (var i = 0; i < converted.Count; i++)
            {
                array.SetValue(converted[i], i);
            }

            return array;
        }

        if (IsResultType(target) && value is PSObject bag)
        {
            return Rehydrate(bag, target, depth);
        }

        return LanguagePrimitives.ConvertTo(value, target, CultureInfo.InvariantCulture);
    }

    // A DateTimeOffset arrives as a property bag (UtcTicks, Offset) when serialized deep enough, else as text.
    private static DateTimeOffset ToDateTimeOffset(object value)
    {
        if (value is PSObject bag && bag.Properties["UtcTicks"]?.Value is { } ticks && bag.Properties["Offset"]?.Value is { } offset)
        {
            var utc = new DateTimeOffset(System.Convert.ToInt64(ticks is PSObject t ? t.BaseObject : ticks, CultureInfo.InvariantCulture), TimeSpan.Zero);
            return utc.ToOffset((TimeSpan)(offset is PSObject o ? o.BaseObject : offset));
        }

        if (value is DateTime time)
        {
            return new DateTimeOffset(time);
        }

        return DateTimeOffset.Parse(value.ToString()!, CultureInfo.InvariantCulture);
    }

    // T of T[], IReadOnlyList<T>, IReadOnlyCollection<T>, IEnumerable<T>, IList<T>.
    private static Type? ListElementType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        if (!type.IsGenericType)
        {
            return null;
        }

        var definition = type.GetGenericTypeDefinition();
        return definition == typeof(IReadOnlyList<>) || definition == typeof(IReadOnlyCollection<>) || definition == typeof(IEnumerable<>)
               || definition == typeof(IList<>) ? type.GetGenericArguments()[0] : null;
    }

    // V of IReadOnlyDictionary<string, V> and IDictionary<string, V>.
    private static Type? DictionaryValueType(Type type)
    {
        if (!type.IsGenericType)
        {
            return null;
        }

        var definition = type.GetGenericTypeDefinition();
        var arguments = type.GetGenericArguments();
        return (definition == typeof(IReadOnlyDictionary<,>) || definition == typeof(IDictionary<,>)) && arguments[0] == typeof(string)
            ? arguments[1] : null;
    }
}
