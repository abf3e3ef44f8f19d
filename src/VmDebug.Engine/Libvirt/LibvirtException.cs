namespace VmDebug.Engine.Libvirt;

/// <summary>
/// A libvirt call failed. <see cref="LibvirtCode"/> and <see cref="LibvirtErrorDomain"/> are libvirt's virErrorNumber and
/// virErrorDomain (virterror.h), so scripts can match them exactly; <see cref="VmDebugException.Target"/> is the
/// connection URI or the guest's name.
/// </summary>
public sealed class LibvirtException : VmDebugException
{
    public LibvirtException(string errorId, ErrorKind kind, string message, object? target,
        int libvirtCode = 0, int libvirtErrorDomain = 0, string? libvirtMessage = null, Exception? inner = null)
        : base(errorId, kind, message, target, inner)
    {
        LibvirtCode = libvirtCode;
        LibvirtErrorDomain = libvirtErrorDomain;
        LibvirtMessage = libvirtMessage;
    }

    public int LibvirtCode { get; }
    public int LibvirtErrorDomain { get; }
    public string? LibvirtMessage { get; }
}
