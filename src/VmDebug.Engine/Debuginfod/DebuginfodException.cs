namespace VmDebug.Engine.Debuginfod;

/// <summary>
/// Fetching debug information from debuginfod failed. <see cref="VmDebugException.Target"/> is the build id;
/// <see cref="Server"/> is the server concerned (null when the fault is before or across all servers).
/// </summary>
public sealed class DebuginfodException : VmDebugException
{
    public DebuginfodException(string errorId, ErrorKind kind, string message, string buildId, Uri? server = null,
        Exception? inner = null)
        : base(errorId, kind, message, buildId, inner)
    {
        BuildId = buildId;
        Server = server;
    }

    public string BuildId { get; }
    public Uri? Server { get; }
}
