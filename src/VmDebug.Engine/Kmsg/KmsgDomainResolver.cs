using System.Globalization;
using System.Xml.Linq;
using VmDebug.Engine.CrashConfiguration;
using VmDebug.Engine.Libvirt;

namespace VmDebug.Engine.Kmsg;

/// <summary>
/// Finds where a libvirt domain's kernel log can be read, from its live XML: the live XML carries what libvirt
/// filled in at start (the automatic vsock CID, the generated path of a path-less channel).
/// </summary>
internal static class KmsgDomainResolver
{
    public const string ChannelName = "org.vmdebug.kmsg";

    private const string ChannelXml =
        "<channel type='unix'><source mode='bind'/><target type='virtio' name='" + ChannelName + "'/></channel>";

    private const string VsockXml = "<vsock model='virtio'><cid auto='yes'/></vsock>";

    public static KmsgSource Resolve(string? connectionUri, string domainName, uint? port)
    {
        using var connection = LibvirtConnection.Open(connectionUri, readOnly: true);
        using var domain = connection.LookupDomain(domainName);
        var running = domain.IsActive;
        return FromXml(domain.GetXmlDesc(), port, running);
    }

    public static KmsgSource FromXml(string domainXml, uint? port, bool isRunning)
    {
        ArgumentNullException.ThrowIfNull(domainXml);
        var root = DomainXmlDocument.Parse(domainXml, "The domain XML").Root;
        var name = root.Element("name")?.Value.Trim() is { Length: > 0 } n ? n : "(unnamed)";
        var devices = root.Element("devices");
        var vsock = devices?.Element("vsock");
        var channel = devices?.Elements("channel").FirstOrDefault(c =>
            c.Element("target") is { } target && (string?)target.Attribute("type") == "virtio" && (string?)target.Attribute("name") == ChannelName);

        if (port is { } vsockPort)
        {
            return vsock is null
                ? throw new KmsgDomainException("KmsgDomainHasNoVsock", ErrorKind.ObjectNotFound,
                    $"Domain '{name}' has no <vsock> device, so nothing can connect to vsock port {vsockPort}. Add {VsockXml} to its <devices> and restart it, " +
                      (channel is null ? $"or add the channel {ChannelXml} and leave out the port." : $"or leave out the port to read its {ChannelName} channel."),
                    name)
                : VsockSource(name, vsock, vsockPort, isRunning);
        }

        if (channel is not null)
        {
            return ChannelSource(name, channel, isRunning);
        }

        throw vsock is null
            ? new KmsgDomainException("KmsgDomainHasNoEndpoint", ErrorKind.ObjectNotFound,
                $"Domain '{name}' has neither a virtio channel named {ChannelName} nor a <vsock> device, so its kernel log cannot be reached. " +
                $"Add {ChannelXml} (libvirt picks the socket path) or {VsockXml} to its <devices>, restart it, and forward /dev/kmsg in the guest (see about_VmDebug_Kmsg).",
                name)
            : new KmsgDomainException("KmsgDomainPortRequired", ErrorKind.InvalidArgument,
                $"Domain '{name}' has a <vsock> device but no {ChannelName} channel: give the vsock port its guest forwards /dev/kmsg to.", name);
    }

    private static KmsgSource VsockSource(string name, XElement vsock, uint port, bool isRunning)
    {
        var cid = vsock.Element("cid");
        var address = (string?)cid?.Attribute("address");
        if (address is null)
        {
            // With auto='yes' libvirt assigns the CID at start; only the running domain's XML has it.
            throw new KmsgDomainException(isRunning ? "KmsgDomainVsockCidUnknown" : "KmsgDomainNotRunning",
                isRunning ? ErrorKind.InvalidData : ErrorKind.ResourceUnavailable,
                isRunning
                    ? $"The <vsock> device of domain '{name}' has no CID address in its live XML."
                    : $"Domain '{name}' is not running and its <vsock> CID is assigned at start (auto='yes'): start it first, or give it a fixed <cid auto='no' address='N'/>.",
                name);
        }

        if (!uint.TryParse(address, NumberStyles.None, CultureInfo.InvariantCulture, out var cidValue) || cidValue < 3)
        {
            throw new KmsgDomainException("KmsgDomainVsockCidInvalid", ErrorKind.InvalidData,
                $"The <vsock> CID of domain '{name}' is '{address}', not a guest CID (3 or more).", name);
        }

        return KmsgSource.VsockForGuest(port, cidValue, name, $"libvirt domain '{name}' (vsock CID {cidValue}, host port {port})");
    }

    private static KmsgSource ChannelSource(string name, XElement channel, bool isRunning)
    {
        var type = (string?)channel.Attribute("type");
        var source = channel.Element("source");
        var mode = (string?)source?.Attribute("mode") ?? "bind";
        var path = (string?)source?.Attribute("path");
        if (type != "unix" || mode != "bind")
        {
            throw new KmsgDomainException("KmsgDomainChannelUnsupported", ErrorKind.InvalidData,
                $"The {ChannelName} channel of domain '{name}' is type='{type}' mode='{mode}'; VmDebug connects to a Unix socket QEMU listens on: use {ChannelXml}.",
                name);
        }

        if (!isRunning)
        {
            throw new KmsgDomainException("KmsgDomainNotRunning", ErrorKind.ResourceUnavailable,
                $"Domain '{name}' is not running, so its {ChannelName} channel socket does not exist: start it first.", name);
        }

        if (string.IsNullOrEmpty(path))
        {
            throw new KmsgDomainException("KmsgDomainChannelPathUnknown", ErrorKind.InvalidData,
                $"The {ChannelName} channel of domain '{name}' has no socket path in its live XML.", name);
        }

        return KmsgSource.ChardevForGuest(path, name, $"libvirt domain '{name}' (channel {ChannelName} at {path})");
    }
}
