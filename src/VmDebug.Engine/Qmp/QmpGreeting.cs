using System.Text.Json.Nodes;

namespace VmDebug.Engine.Qmp;

/// <summary>The server's greeting: <c>{"QMP":{"version":…,"capabilities":[…]}}</c>.</summary>
public sealed record QmpGreeting(QmpVersion Version, IReadOnlyList<string> Capabilities);
