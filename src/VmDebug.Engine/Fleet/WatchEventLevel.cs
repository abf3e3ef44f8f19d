namespace VmDebug;

/// <summary>How much a <see cref="WatchEvent"/> matters: verbose, warning or error in PowerShell; the log level in journald.</summary>
public enum WatchEventLevel
{
    Information,
    Warning,
    Error,
}
