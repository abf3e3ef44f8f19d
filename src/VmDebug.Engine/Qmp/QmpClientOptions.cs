using System.Text.Json.Nodes;

namespace VmDebug.Engine.Qmp;

/// <summary>Settings of one <see cref="QmpClient"/> connection.</summary>
public sealed class QmpClientOptions
{
    /// <summary>How long to wait for the greeting and for the <c>qmp_capabilities</c> reply.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Used by the typed commands when the caller passes no timeout.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Enable out-of-band execution when the server advertises it. Off by default: nothing here needs it.</summary>
    public bool EnableOob { get; init; }

    /// <summary>Largest message accepted from the server; a longer one is a protocol failure.</summary>
    public int MaxMessageBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>
    /// Called on the reader thread with each reply that matches no pending command (e.g. the late reply of a
    /// command that timed out). Must be quick; exceptions it throws are ignored.
    /// </summary>
    public Action<JsonObject>? ReplyDropped { get; init; }
}
