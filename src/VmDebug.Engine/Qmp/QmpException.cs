namespace VmDebug.Engine.Qmp;

/// <summary>Base of every QMP failure. <see cref="VmDebugException.Target"/> is the socket path.</summary>
public abstract class QmpException : VmDebugException
{
    private protected QmpException(string errorId, ErrorKind kind, string message, string socketPath, Exception? inner)
        : base(errorId, kind, message, socketPath, inner)
    {
        SocketPath = socketPath;
    }

    public string SocketPath { get; }

    internal const string NotQmpHint = "is this a QEMU QMP socket?";
}
