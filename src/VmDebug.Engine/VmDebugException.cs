namespace VmDebug.Engine;

/// <summary>
/// Root of every error the engine raises on purpose. <see cref="ErrorId"/> is stable (scripts match on it),
/// <see cref="Target"/> is the object concerned (a path, a socket, a domain name).
/// </summary>
public class VmDebugException : Exception
{
    public VmDebugException(string errorId, ErrorKind kind, string message, object? target = null, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
        Target = target;
    }

    public string ErrorId { get; }
    public ErrorKind Kind { get; }
    public object? Target { get; }

    /// <summary>What to do about it, naming parameters as data; null when the message says all there is.</summary>
    public Remedy? Remedy { get; init; }
}
