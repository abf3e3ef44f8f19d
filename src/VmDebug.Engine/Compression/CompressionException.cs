namespace VmDebug.Engine.Compression;

/// <summary>A page compressor's native library is missing or a codec call failed.</summary>
public sealed class CompressionException : VmDebugException
{
    public CompressionException(string errorId, ErrorKind kind, string message, object? target = null)
        : base(errorId, kind, message, target)
    {
    }
}
