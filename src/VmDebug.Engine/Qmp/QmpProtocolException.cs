namespace VmDebug.Engine.Qmp;

/// <summary>The server broke the protocol: malformed or oversize message, error without id, bad reply shape.</summary>
public sealed class QmpProtocolException : QmpException
{
    internal QmpProtocolException(string errorId, string message, string socketPath, Exception? inner = null)
        : base(errorId, errorId == "QmpMessageTooLarge" ? ErrorKind.LimitsExceeded : ErrorKind.ProtocolError, message, socketPath, inner)
    {
    }
}
