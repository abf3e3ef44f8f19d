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

/// <summary>The socket could not be connected to (missing, refused, not permitted, path too long).</summary>
public sealed class QmpConnectException : QmpException
{
    internal QmpConnectException(string errorId, ErrorKind kind, string message, string socketPath, Exception? inner = null)
        : base(errorId, kind, message, socketPath, inner)
    {
    }
}

/// <summary>The peer did not send a valid QMP greeting (silent, closed, garbage, or another protocol).</summary>
public sealed class QmpGreetingException : QmpException
{
    internal QmpGreetingException(string errorId, string message, string socketPath, Exception? inner = null)
        : base(errorId, errorId == "QmpGreetingTimeout" ? ErrorKind.OperationTimeout : ErrorKind.ProtocolError, message, socketPath, inner)
    {
    }
}

/// <summary>The server rejected or did not answer <c>qmp_capabilities</c>.</summary>
public sealed class QmpNegotiationException : QmpException
{
    internal QmpNegotiationException(string message, string socketPath, Exception? inner = null)
        : base("QmpNegotiationFailed", ErrorKind.ProtocolError, message, socketPath, inner)
    {
    }
}

/// <summary>QEMU answered a command with an error reply.</summary>
public sealed class QmpCommandException : QmpException
{
    internal QmpCommandException(string command, string? argumentsJson, string errorClass, string description, string socketPath)
        : base("QmpCommandFailed", KindOf(errorClass),
            $"QMP command '{command}' failed on {socketPath}: {errorClass}: {description}", socketPath, null)
    {
        Command = command;
        ArgumentsJson = argumentsJson;
        ErrorClass = errorClass;
        Description = description;
    }

    /// <summary>The command name that was sent, e.g. <c>dump-guest-memory</c>.</summary>
    public string Command { get; }

    /// <summary>The arguments that were sent, as JSON, or null when there were none.</summary>
    public string? ArgumentsJson { get; }

    /// <summary>QMP's error class, e.g. <c>GenericError</c>, <c>CommandNotFound</c>.</summary>
    public string ErrorClass { get; }

    /// <summary>QEMU's human-readable description.</summary>
    public string Description { get; }

    private static ErrorKind KindOf(string errorClass) => errorClass switch
    {
        "CommandNotFound" => ErrorKind.NotImplemented,
        "DeviceNotFound" => ErrorKind.ObjectNotFound,
        "DeviceNotActive" => ErrorKind.InvalidOperation,
        _ => ErrorKind.InvalidOperation,
    };
}

/// <summary>The server broke the protocol: malformed or oversize message, error without id, bad reply shape.</summary>
public sealed class QmpProtocolException : QmpException
{
    internal QmpProtocolException(string errorId, string message, string socketPath, Exception? inner = null)
        : base(errorId, errorId == "QmpMessageTooLarge" ? ErrorKind.LimitsExceeded : ErrorKind.ProtocolError, message, socketPath, inner)
    {
    }
}

/// <summary>A command got no reply within its timeout. The connection stays usable; a late reply is dropped.</summary>
public sealed class QmpTimeoutException : QmpException
{
    internal QmpTimeoutException(string command, TimeSpan timeout, string socketPath)
        : base("QmpCommandTimeout", ErrorKind.OperationTimeout,
            $"QMP command '{command}' got no reply from {socketPath} within {timeout.TotalSeconds:0.###} s.", socketPath, null)
    {
        Command = command;
        Timeout = timeout;
    }

    public string Command { get; }
    public TimeSpan Timeout { get; }
}

/// <summary>The connection is closed (EOF, socket error, protocol failure or disposal); the command cannot complete.</summary>
public sealed class QmpDisconnectedException : QmpException
{
    internal QmpDisconnectedException(string message, string socketPath, Exception? inner = null)
        : base("QmpDisconnected", ErrorKind.ConnectionError, message, socketPath, inner)
    {
    }
}
