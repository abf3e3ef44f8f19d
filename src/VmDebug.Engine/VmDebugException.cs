namespace VmDebug.Engine;

/// <summary>
/// Mirrors the names of PowerShell's ErrorCategory so the cmdlet layer can map by name
/// without the engine referencing System.Management.Automation.
/// </summary>
public enum ErrorKind
{
    NotSpecified,
    InvalidArgument,
    InvalidData,
    InvalidOperation,
    InvalidResult,
    ObjectNotFound,
    ResourceExists,
    ResourceUnavailable,
    ResourceBusy,
    PermissionDenied,
    ConnectionError,
    ProtocolError,
    OperationTimeout,
    OperationStopped,
    NotImplemented,
    NotInstalled,
    ParserError,
    WriteError,
    ReadError,
    LimitsExceeded,
    DeviceError,
}

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
