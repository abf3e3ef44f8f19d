using System.Diagnostics;
using System.Text.Json.Nodes;
using VmDebug.Engine.Json;

namespace VmDebug.Engine.Qmp;

/// <summary>Runs one QMP command by name on a fresh connection (Invoke-QmpCommand, vmdebug qmp).</summary>
public static class QmpRawCommand
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <param name="makeObject">Builds the objects of the reply (see <see cref="PlainJson.ToPlain(JsonNode?, Func{IEnumerable{KeyValuePair{string, object?}}, object}?)"/>); null: ordered dictionaries.</param>
    public static async Task<QmpResponse> InvokeAsync(string qmpSocket, string command, JsonObject? arguments,
        TimeSpan? timeout, CancellationToken cancellationToken,
        Func<IEnumerable<KeyValuePair<string, object?>>, object>? makeObject = null)
    {
        if (string.IsNullOrWhiteSpace(command))
        {
            throw new VmDebugException("QmpCommandNameEmpty", ErrorKind.InvalidArgument, "The QMP command name is empty.", command);
        }

        await using var client = await QmpClient.ConnectAsync(qmpSocket, null, cancellationToken).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        var result = await client.ExecuteAsync(command, arguments, timeout ?? DefaultTimeout, cancellationToken).ConfigureAwait(false);
        return new QmpResponse
        {
            QmpSocket = qmpSocket,
            Command = command,
            Return = PlainJson.ToPlain(result, makeObject),
            ReturnJson = result?.ToJsonString() ?? "{}",
            Duration = clock.Elapsed,
        };
    }

    /// <summary>
    /// The arguments object of a command from what a script holds: a dictionary, a property bag already unwrapped
    /// to one by <paramref name="unwrap"/>, or JSON text. Anything else is refused: QMP arguments are a JSON object.
    /// </summary>
    public static JsonObject? ToArguments(object? value, Func<object, object>? unwrap = null)
    {
        if (value is not null && unwrap is not null)
        {
            value = unwrap(value);
        }

        JsonNode? node;
        try
        {
            node = value is string text ? JsonNode.Parse(text) : PlainJson.FromPlain(value, unwrap);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new VmDebugException("QmpArgumentsInvalid", ErrorKind.InvalidArgument,
                $"The QMP arguments are not valid JSON: {e.Message}", value, e);
        }

        return node switch
        {
            null => null,
            JsonObject arguments => arguments,
            _ => throw new VmDebugException("QmpArgumentsInvalid", ErrorKind.InvalidArgument,
                $"The QMP arguments must be an object of named members, not {node.GetValueKind().ToString().ToLowerInvariant()} {node.ToJsonString()}.", value),
        };
    }

    /// <summary>The names of the commands the QEMU behind <paramref name="qmpSocket"/> accepts (query-commands), sorted.</summary>
    public static async Task<IReadOnlyList<string>> ListCommandNamesAsync(string qmpSocket, CancellationToken cancellationToken)
    {
        await using var client = await QmpClient.ConnectAsync(qmpSocket, null, cancellationToken).ConfigureAwait(false);
        var result = await client.ExecuteAsync("query-commands", null, null, cancellationToken).ConfigureAwait(false);
        return result is JsonArray commands
            ? commands.Select(c => c?["name"]?.GetValue<string>()).OfType<string>().Order(StringComparer.Ordinal).ToList()
            : [];
    }
}
