namespace VmDebug.Engine.Kmsg;

/// <summary>A kmsg transport could not be set up: socket, bind, listen or connect failed.</summary>
public sealed class KmsgTransportException : VmDebugException
{
    public KmsgTransportException(string errorId, ErrorKind kind, string message, object? target, Exception? inner = null)
        : base(errorId, kind, message, target, inner)
    {
    }
}
