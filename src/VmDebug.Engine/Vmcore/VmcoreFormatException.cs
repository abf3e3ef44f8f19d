namespace VmDebug.Engine.Vmcore;

/// <summary>A dump file is malformed, truncated or uses a variant this engine does not read.</summary>
public sealed class VmcoreFormatException : VmDebugException
{
    public VmcoreFormatException(string path, long offset, string reason, Exception? inner = null)
        : base("VmcoreFormatInvalid", ErrorKind.InvalidData, $"{path}: at offset {offset}: {reason}", path, inner)
    {
        Path = path;
        Offset = offset;
        Reason = reason;
    }

    /// <summary>The dump file concerned.</summary>
    public string Path { get; }

    /// <summary>Byte offset in the (reassembled) file where the problem was found.</summary>
    public long Offset { get; }

    public string Reason { get; }
}
