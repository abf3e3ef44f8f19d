namespace VmDebug.Engine.Kmsg;

/// <summary>A libvirt domain offers no usable kmsg transport; the message says what XML to add.</summary>
public sealed class KmsgDomainException : VmDebugException
{
    public KmsgDomainException(string errorId, ErrorKind kind, string message, string domain)
        : base(errorId, kind, message, domain)
    {
    }
}
