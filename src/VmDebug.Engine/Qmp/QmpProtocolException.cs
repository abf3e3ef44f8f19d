namespace VmDebug.Engine.Qmp;

/// <summary>The server broke the protocol: malformed or oversize message, error without id, bad reply shape.</summary>
public sealed class QmpProtocolException : QmpException
{
    internal QmpProtocolException(QmpProtocolFailure failure, string message, string socketPath, Exception? inner = null)
        : base("Qmp" + failure, failure == QmpProtocolFailure.MessageTooLarge ? ErrorKind.LimitsExceeded : ErrorKind.ProtocolError,
            message, socketPath, inner)
    {
        Failure = failure;
    }

    public QmpProtocolFailure Failure { get; }
}
