using System.Text.Json.Nodes;

namespace VmDebug.Engine.Qmp;

/// <summary>An asynchronous QMP event, e.g. <c>STOP</c>, <c>GUEST_PANICKED</c>, <c>DUMP_COMPLETED</c>.</summary>
/// <param name="Name">The event name.</param>
/// <param name="Timestamp">When QEMU emitted it (from its seconds/microseconds pair).</param>
/// <param name="Data">The event's <c>data</c> member, or null when it has none.</param>
public sealed record QmpEvent(string Name, DateTimeOffset Timestamp, JsonObject? Data)
{
    /// <summary>An event message; a missing or out-of-range timestamp becomes the time it was read.</summary>
    internal static QmpEvent Parse(JsonObject message)
    {
        var name = QmpMessage.GetString(message, "event") ?? "";
        var timestamp = DateTimeOffset.UtcNow;
        if (message["timestamp"] is JsonObject ts
            && QmpMessage.TryGetLong(ts, "seconds", out var seconds) && QmpMessage.TryGetLong(ts, "microseconds", out var micros)
            && seconds is >= 0 and < 253402300800 && micros is >= 0 and < 1_000_000)
        {
            timestamp = DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(micros * 10);
        }

        var data = message["data"] as JsonObject;
        if (data is not null)
        {
            message.Remove("data"); // detached, so listeners may keep or re-parent it
        }

        return new QmpEvent(name, timestamp, data);
    }
}
