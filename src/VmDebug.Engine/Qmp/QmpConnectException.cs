namespace VmDebug.Engine.Qmp;

/// <summary>The socket could not be connected to (missing, refused, not permitted, path too long).</summary>
public sealed class QmpConnectException : QmpException
{
    internal QmpConnectException(string errorId, ErrorKind kind, string message, string socketPath, Exception? inner = null)
        : base(errorId, kind, message, socketPath, inner)
    {
    }
}
