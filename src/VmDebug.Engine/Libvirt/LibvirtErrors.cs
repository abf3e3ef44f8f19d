using VmDebug.Engine.Native;

namespace VmDebug.Engine.Libvirt;

internal static unsafe class LibvirtErrors
{
    // virErrorDomain values whose SYSTEM_ERRORs are about the connection rather than the guest.
    private const int FromRpc = 7;
    private const int FromRemote = 13;

    /// <summary>
    /// Builds the exception from libvirt's last error. libvirt keeps it per thread, so this must run on the thread
    /// that made the failing call, before any other libvirt call.
    /// </summary>
    internal static LibvirtException FromLastError(string operation, object? target)
    {
        var err = LibvirtNative.virGetLastError();
        if (err == null)
        {
            return new LibvirtException("LibvirtCallFailed", ErrorKind.NotSpecified,
                $"{operation} failed for '{target}', and libvirt reported no error.", target);
        }

        int code = err->Code, domain = err->Domain;
        var text = LibvirtNative.Utf8(err->Message) ?? "(no message)";
        LibvirtNative.virResetLastError();
        var (id, kind) = Classify(code, domain);
        return new LibvirtException(id, kind, $"{operation} failed for '{target}': {text}", target, code, domain, text);
    }

    internal static (string ErrorId, ErrorKind Kind) Classify(int code, int domain) => (LibvirtErrorCode)code switch
    {
        LibvirtErrorCode.NoDomain => ("LibvirtDomainNotFound", ErrorKind.ObjectNotFound),
        LibvirtErrorCode.OperationInvalid => ("LibvirtOperationInvalid", ErrorKind.InvalidOperation),
        LibvirtErrorCode.NoConnect or LibvirtErrorCode.Rpc => ("LibvirtConnectionFailed", ErrorKind.ConnectionError),
        LibvirtErrorCode.SystemError when domain is FromRpc or FromRemote => ("LibvirtConnectionFailed", ErrorKind.ConnectionError),
        LibvirtErrorCode.AuthFailed or LibvirtErrorCode.AuthCancelled or LibvirtErrorCode.AuthUnavailable
            => ("LibvirtAuthenticationFailed", ErrorKind.ConnectionError),
        LibvirtErrorCode.OperationUnsupported or LibvirtErrorCode.ArgumentUnsupported or LibvirtErrorCode.NoSupport
            or LibvirtErrorCode.ConfigUnsupported => ("LibvirtUnsupported", ErrorKind.InvalidArgument),
        LibvirtErrorCode.InvalidArg => ("LibvirtInvalidArgument", ErrorKind.InvalidArgument),
        LibvirtErrorCode.XmlError or LibvirtErrorCode.XmlDetail or LibvirtErrorCode.XmlInvalidSchema
            => ("LibvirtXmlInvalid", ErrorKind.InvalidData),
        LibvirtErrorCode.DomainExists => ("LibvirtDomainExists", ErrorKind.ResourceExists),
        LibvirtErrorCode.OperationDenied or LibvirtErrorCode.AccessDenied => ("LibvirtAccessDenied", ErrorKind.PermissionDenied),
        LibvirtErrorCode.OperationTimeout => ("LibvirtTimeout", ErrorKind.OperationTimeout),
        LibvirtErrorCode.OperationAborted => ("LibvirtOperationAborted", ErrorKind.OperationStopped),
        LibvirtErrorCode.ResourceBusy or LibvirtErrorCode.AgentUnresponsive => ("LibvirtResourceBusy", ErrorKind.ResourceBusy),
        _ => ("LibvirtCallFailed", ErrorKind.NotSpecified),
    };
}
