namespace VmDebug.Engine.Qmp;

/// <summary>The connection is closed (EOF, socket error, protocol failure or disposal); the command cannot complete.</summary>
public sealed class QmpDisconnectedException : QmpException
{
    internal QmpDisconnectedException(string message, string socketPath, Exception? inner = null)
        : base("QmpDisconnected", ErrorKind.ConnectionError, message, socketPath, inner)
    {
    }
}
