namespace VmDebug.Engine.CrashConfiguration;

/// <summary>The panic device model refused for this libvirt, architecture or machine.</summary>
public sealed class PanicModelNotSupportedException(string model, string reason)
    : VmDebugException("PanicModelNotSupported", ErrorKind.InvalidArgument, $"Panic model '{model}' cannot be used: {reason}.", model);
