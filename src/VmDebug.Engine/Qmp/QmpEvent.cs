using System.Text.Json.Nodes;

namespace VmDebug.Engine.Qmp;

/// <summary>An asynchronous QMP event, e.g. <c>STOP</c>, <c>GUEST_PANICKED</c>, <c>DUMP_COMPLETED</c>.</summary>
/// <param name="Name">The event name.</param>
/// <param name="Timestamp">When QEMU emitted it (from its seconds/microseconds pair).</param>
/// <param name="Data">The event's <c>data</c> member, or null when it has none.</param>
public sealed record QmpEvent(string Name, DateTimeOffset Timestamp, JsonObject? Data);
