namespace VmDebug.Engine.Qmp;

/// <summary>The peer did not send a valid QMP greeting (silent, closed, garbage, or another protocol).</summary>
public sealed class QmpGreetingException : QmpException
{
    internal QmpGreetingException(QmpGreetingFailure failure, string message, string socketPath, Exception? inner = null)
        : base("QmpGreeting" + failure, failure == QmpGreetingFailure.Timeout ? ErrorKind.OperationTimeout : ErrorKind.ProtocolError,
            message, socketPath, inner)
    {
        Failure = failure;
    }

    public QmpGreetingFailure Failure { get; }
}
