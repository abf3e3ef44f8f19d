using VmDebug.Engine;

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

/// <summary>A kmsg transport could not be set up: socket, bind, listen or connect failed.</summary>
public sealed class KmsgTransportException : VmDebugException
{
    public KmsgTransportException(string errorId, ErrorKind kind, string message, object? target, Exception? inner = null)
        : base(errorId, kind, message, target, inner)
    {
    }
}

/// <summary>A libvirt domain offers no usable kmsg transport; the message says what XML to add.</summary>
public sealed class KmsgDomainException : VmDebugException
{
    public KmsgDomainException(string errorId, ErrorKind kind, string message, string domain)
        : base(errorId, kind, message, domain)
    {
    }
}
