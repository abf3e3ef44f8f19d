using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VmDebug.Engine.Qmp;

/// <summary>
/// QMP's wire messages (as QEMU's python/qemu/qmp/models.py holds them): parsing one line into a JSON object,
/// writing a command, reading typed members, and showing untrusted bytes in error messages.
/// </summary>
internal static class QmpMessage
{
    /// <summary>
    /// Parses one message into a fully built tree. JsonObject builds its members lazily and throws ArgumentException
    /// on a duplicate name at first access; walking the tree here makes that a parse error, not a later crash.
    /// </summary>
    public static JsonObject Parse(ReadOnlySpan<byte> line)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(line);
            Build(node);
        }
        catch (ArgumentException e)
        {
            throw new JsonException("duplicate member name: " + e.Message, e);
        }

        return node as JsonObject ?? throw new JsonException("not a JSON object");

        // Depth is bounded by the parser's maximum depth (64).
        static void Build(JsonNode? node)
        {
            if (node is JsonObject obj)
            {
                foreach (var member in obj)
                {
                    Build(member.Value);
                }
            }
            else if (node is JsonArray array)
            {
                foreach (var item in array)
                {
                    Build(item);
                }
            }
        }
    }

    /// <summary>One command as a line: <c>{"execute":…,"arguments":…,"id":…}</c> and '\n'.</summary>
    public static byte[] Command(string command, JsonObject? arguments, string? id)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("execute", command);
            if (arguments is not null)
            {
                writer.WritePropertyName("arguments");
                arguments.WriteTo(writer);
            }

            if (id is not null)
            {
                writer.WriteString("id", id);
            }

            writer.WriteEndObject();
        }

        var bytes = new byte[buffer.WrittenCount + 1];
        buffer.WrittenSpan.CopyTo(bytes);
        bytes[^1] = (byte)'\n';
        return bytes;
    }

    /// <summary>Escaped and bounded: the peer may be anything, and its bytes end up in error messages.</summary>
    public static string Preview(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0)
        {
            return "nothing";
        }

        const int max = 80;
        var text = new StringBuilder("\"");
        foreach (var b in bytes[..Math.Min(bytes.Length, max)])
        {
            text.Append(b switch
            {
                (byte)'\r' => "\\r",
                (byte)'\n' => "\\n",
                (byte)'\t' => "\\t",
                (byte)'"' => "\\\"",
                (byte)'\\' => "\\\\",
                >= 0x20 and < 0x7f => ((char)b).ToString(),
                _ => $"\\x{b:x2}",
            });
        }

        text.Append('"');
        if (bytes.Length > max)
        {
            text.Append($"… ({bytes.Length} bytes)");
        }

        return text.ToString();
    }

    public static string Preview(JsonNode? node) => Preview(Encoding.UTF8.GetBytes(node?.ToJsonString() ?? "null"));

    public static bool TryGetInt(JsonObject obj, string name, out int value)
    {
        value = 0;
        return obj[name] is JsonValue v && v.TryGetValue(out value);
    }

    public static bool TryGetLong(JsonObject obj, string name, out long value)
    {
        value = 0;
        return obj[name] is JsonValue v && v.TryGetValue(out value);
    }

    public static string? GetString(JsonObject obj, string name) =>
        obj[name] is JsonValue v && v.TryGetValue(out string? text) ? text : null;
}
