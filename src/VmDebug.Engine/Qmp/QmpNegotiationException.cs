namespace VmDebug.Engine.Qmp;

/// <summary>The server rejected or did not answer <c>qmp_capabilities</c>.</summary>
public sealed class QmpNegotiationException : QmpException
{
    internal QmpNegotiationException(string message, string socketPath, Exception? inner = null)
        : base("QmpNegotiationFailed", ErrorKind.ProtocolError, message, socketPath, inner)
    {
    }
}
