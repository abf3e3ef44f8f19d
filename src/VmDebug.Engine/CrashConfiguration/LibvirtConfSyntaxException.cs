namespace VmDebug.Engine.CrashConfiguration;

/// <summary>The file is not valid libvirt config syntax; nothing was written.</summary>
public sealed class LibvirtConfSyntaxException(string path, int line, string reason)
    : VmDebugException("QemuConfSyntaxError", ErrorKind.ParserError, $"{path}:{line}: {reason}.", path)
{
    public int Line { get; } = line;
    public string Reason { get; } = reason;
}
