namespace VmDebug.Engine.Kmsg;

/// <summary>Bytes that are not a /dev/kmsg record. The stream reports these as events and goes on.</summary>
public sealed class KmsgFormatException : VmDebugException
{
    public KmsgFormatException(string reason, object? target = null)
        : base("KmsgRecordMalformed", ErrorKind.ParserError, $"The kmsg record is malformed: {reason}.", target)
    {
        Reason = reason;
    }

    /// <summary>Why the record was rejected, without the "malformed" preamble.</summary>
    public string Reason { get; }
}
