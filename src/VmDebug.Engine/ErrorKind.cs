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
