namespace VmDebug.Engine.Qmp;

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
        _ => ErrorKind.InvalidOperation,
    };
}
