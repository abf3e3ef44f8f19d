namespace VmDebug.Engine.KernelLog;

/// <summary>The printk ring cannot be read at all; a ring that is only partly readable gives a warning instead.</summary>
public sealed class KernelLogException : VmDebugException
{
    /// <summary>VMCOREINFO names no printk ring this reader knows (neither prb nor log_buf).</summary>
    public const string RingUnknown = "KernelLogRingUnknown";
    /// <summary>The ring's own header is out of bounds or unreadable.</summary>
    public const string RingCorrupt = "KernelLogRingCorrupt";

    public KernelLogException(string errorId, ErrorKind kind, string source, string message, Exception? inner = null)
        : base(errorId, kind, $"{source}: {message}", source, inner)
    {
    }
}
