namespace VmDebug.Engine.Qmp;

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
