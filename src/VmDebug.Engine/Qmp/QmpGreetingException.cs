namespace VmDebug.Engine.Qmp;

/// <summary>The peer did not send a valid QMP greeting (silent, closed, garbage, or another protocol).</summary>
public sealed class QmpGreetingException : QmpException
{
    internal QmpGreetingException(string errorId, string message, string socketPath, Exception? inner = null)
        : base(errorId, errorId == "QmpGreetingTimeout" ? ErrorKind.OperationTimeout : ErrorKind.ProtocolError, message, socketPath, inner)
    {
    }
}
