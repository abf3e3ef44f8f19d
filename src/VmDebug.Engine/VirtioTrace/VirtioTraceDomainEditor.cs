using System.Globalization;
using System.Xml.Linq;
using VmDebug.Engine.CrashConfiguration;

namespace VmDebug.Engine.VirtioTrace;

/// <summary>
/// Adds the virtio-trace channels to a domain as libvirt pipe channels
/// (&lt;channel type='pipe'&gt;&lt;source path=…/&gt;&lt;target type='virtio' name=…/&gt;&lt;address type='virtio-serial' …/&gt;),
/// editing the document in place: other devices, unknown elements and comments survive.
/// </summary>
internal static class VirtioTraceDomainEditor
{
    /// <summary>Ports of virtio-serial controller 0 already taken by channels this feature does not own.</summary>
    public static HashSet<int> UsedPorts(DomainXmlDocument doc)
    {
        var used = new HashSet<int>();
        foreach (var channel in Devices(doc).Elements())
        {
            if (channel.Name.LocalName is not ("channel" or "console" or "serial"))
            {
                continue;
            }

            if (VirtioTraceChannelPlanner.IsTraceChannelName((string?)channel.Element("target")?.Attribute("name")))
            {
                continue;
            }

            var address = channel.Element("address");
            if ((string?)address?.Attribute("type") != "virtio-serial" || ParseInt((string?)address!.Attribute("controller")) is not (null or 0))
            {
                continue;
            }

            if (ParseInt((string?)address.Attribute("port")) is { } port)
            {
                used.Add(port);
            }
        }
        // A virtio console takes port 0 whether or not it names an address.
        used.Add(0);
        return used;
    }

    /// <summary>Replaces this feature's channels with <paramref name="channels"/>; returns what changed, in words.</summary>
    public static IReadOnlyList<string> Apply(DomainXmlDocument doc, IReadOnlyList<VirtioTraceChannel> channels)
    {
        var devices = Devices(doc);
        var changes = new List<string>();
        var existing = devices.Elements("channel")
            .Where(c => VirtioTraceChannelPlanner.IsTraceChannelName((string?)c.Element("target")?.Attribute("name"))).ToList();
        var wanted = channels.Select(c => Element(c).ToString(SaveOptions.DisableFormatting)).ToHashSet(StringComparer.Ordinal);
        // Already exactly as wanted: nothing to do (a second run changes nothing).
        if (existing.Count == channels.Count && existing.All(e => wanted.Contains(Normalized(e))))
        {
            return changes;
        }

        XElement? anchor = null;
        foreach (var old in existing)
        {
            changes.Add($"Remove channel {(string?)old.Element("target")?.Attribute("name")}");
            DomainXmlDocument.Remove(old);
        }
        anchor = devices.Elements("channel").LastOrDefault();
        foreach (var channel in channels)
        {
            var element = Element(channel);
            DomainXmlDocument.Insert(devices, element, after: anchor);
            anchor = element;
            changes.Add($"Add pipe channel {channel.Name} on virtio-serial port {channel.Port.ToString(CultureInfo.InvariantCulture)} ({channel.Path}.in/.out)");
        }

        var maxPort = channels.Max(c => c.Port);
        if (maxPort >= VirtioTraceChannelPlanner.DefaultMaxPorts)
        {
            SetControllerPorts(devices, maxPort + 1, changes);
        }

        return changes;
    }

    private static XElement Devices(DomainXmlDocument doc)
    {
        var devices = doc.Root.Element("devices");
        if (devices is null)
        {
            devices = new XElement("devices");
            DomainXmlDocument.Insert(doc.Root, devices);
        }
        return devices;
    }

    private static XElement Element(VirtioTraceChannel channel) =>
        new("channel", new XAttribute("type", "pipe"),
            new XElement("source", new XAttribute("path", channel.Path)),
            new XElement("target", new XAttribute("type", "virtio"), new XAttribute("name", channel.Name)),
            new XElement("address", new XAttribute("type", "virtio-serial"), new XAttribute("controller", "0"), new XAttribute("bus", "0"),
                new XAttribute("port", channel.Port.ToString(CultureInfo.InvariantCulture))));

    // The same channel without the whitespace between its children, and without what libvirt adds (target state).
    private static string Normalized(XElement channel)
    {
        var copy = new XElement(channel);
        foreach (var text in copy.DescendantNodes().OfType<XText>().ToList())
        {
            text.Remove();
        }

        copy.Element("target")?.Attribute("state")?.Remove();
        copy.Element("alias")?.Remove();
        return copy.ToString(SaveOptions.DisableFormatting);
    }

    private static void SetControllerPorts(XElement devices, int ports, List<string> changes)
    {
        var controller = devices.Elements("controller")
            .FirstOrDefault(c => (string?)c.Attribute("type") == "virtio-serial" && ParseInt((string?)c.Attribute("index")) is null or 0);
        if (controller is null)
        {
            controller = new XElement("controller", new XAttribute("type", "virtio-serial"), new XAttribute("index", "0"));
            DomainXmlDocument.Insert(devices, controller, after: devices.Elements("controller").LastOrDefault());
        }
        if (ParseInt((string?)controller.Attribute("ports")) is { } current && current >= ports)
        {
            return;
        }

        controller.SetAttributeValue("ports", ports.ToString(CultureInfo.InvariantCulture));
        changes.Add($"virtio-serial controller 0 ports = {ports.ToString(CultureInfo.InvariantCulture)}");
    }

    private static int? ParseInt(string? value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;
}
