using System.Globalization;
using System.Xml.Linq;

namespace VmDebug.Engine.CrashConfiguration;

/// <summary>Surgical edits of the crash-related parts of a domain XML.</summary>
public static class GuestPanicEditor
{
    /// <summary>Sets or removes &lt;memory dumpCore&gt; without touching the element's value or unit.</summary>
    public static bool SetDumpCore(DomainXmlDocument doc, DumpCoreEdit edit)
    {
        var memory = doc.Root.Element("memory")
            ?? throw new VmDebugException("DomainXmlInvalid", ErrorKind.InvalidData, "The domain XML has no <memory> element.", doc.Root.Element("name")?.Value);
        if (edit != DumpCoreEdit.Remove)
        {
            return SetAttribute(memory, "dumpCore", edit == DumpCoreEdit.On ? "on" : "off");
        }

        if (memory.Attribute("dumpCore") is not { } a)
        {
            return false;
        }

        a.Remove();
        return true;
    }

    /// <summary>&lt;features&gt;&lt;vmcoreinfo state=.../&gt;, creating &lt;features&gt; where libvirt writes it.</summary>
    public static bool SetVmcoreInfo(DomainXmlDocument doc, bool on)
    {
        var state = on ? "on" : "off";
        var features = doc.Root.Element("features");
        if (features is null)
        {
            if (!on)
            {
                return false;
            }

            features = new XElement("features");
            // libvirt's order: ... os, idmap, features, cpu, clock, on_*, pm, devices.
            var after = doc.Root.Element("idmap") ?? doc.Root.Element("os");
            var before = after is null ? FirstOf(doc.Root, "cpu", "clock", "on_poweroff", "on_reboot", "on_crash", "devices") : null;
            DomainXmlDocument.Insert(doc.Root, features, after, before);
        }
        if (features.Element("vmcoreinfo") is { } existing)
        {
            return SetAttribute(existing, "state", state);
        }
        // No element means off already: writing state='off' would be a change that changes nothing.
        if (!on)
        {
            return false;
        }

        DomainXmlDocument.Insert(features, new XElement("vmcoreinfo", new XAttribute("state", state)));
        return true;
    }

    /// <summary>&lt;on_crash&gt;, inserted after on_poweroff/on_reboot as libvirt orders them.</summary>
    public static bool SetOnCrash(DomainXmlDocument doc, CrashAction action)
    {
        var value = action.ToXml();
        if (doc.Root.Element("on_crash") is { } existing)
        {
            if (existing.Value == value)
            {
                return false;
            }

            existing.Value = value;
            return true;
        }
        // No element means destroy already (libvirt's default).
        if (action == CrashAction.Destroy)
        {
            return false;
        }

        var element = new XElement("on_crash", value);
        var after = doc.Root.Elements().LastOrDefault(e => e.Name == "on_poweroff" || e.Name == "on_reboot");
        var before = after is null ? FirstOf(doc.Root, "on_lockfailure", "pm", "perf", "devices") : null;
        DomainXmlDocument.Insert(doc.Root, element, after, before);
        return true;
    }

    /// <summary>
    /// Ensures a &lt;panic model=...&gt; device. A panic device of another model is retargeted (its address
    /// dropped, libvirt assigns one for the new bus); hyperv coexists with the others, as libvirt allows.
    /// </summary>
    public static bool SetPanic(DomainXmlDocument doc, GuestPanicModel model)
    {
        var devices = doc.Root.Element("devices")
            ?? throw new VmDebugException("DomainXmlInvalid", ErrorKind.InvalidData, "The domain XML has no <devices> element.", doc.Root.Element("name")?.Value);
        var name = model.ToXml();
        var panics = devices.Elements("panic").ToList();
        if (panics.Any(p => (string?)p.Attribute("model") == name))
        {
            return false;
        }

        var replaceable = panics.FirstOrDefault(p => model != GuestPanicModel.Hyperv && (string?)p.Attribute("model") != "hyperv");
        if (replaceable is not null)
        {
            replaceable.SetAttributeValue("model", name);
            foreach (var address in replaceable.Elements("address").ToList())
            {
                DomainXmlDocument.Remove(address);
            }

            if (!replaceable.Nodes().OfType<XElement>().Any())
            {
                replaceable.RemoveNodes();
            }

            return true;
        }
        var element = new XElement("panic", new XAttribute("model", name));
        DomainXmlDocument.Insert(devices, element, after: panics.LastOrDefault());
        return true;
    }

    /// <summary>Reads the crash-related settings (no warnings about the host; see GuestPanicConfigurator).</summary>
    public static GuestPanicConfiguration Read(DomainXmlDocument doc, string? path, bool takesEffectAtNextBoot, IReadOnlyList<string> warnings,
        IReadOnlyList<string> changes, string diff, VmDebug.DumpDirectoryStatus? dumpDirectory = null)
    {
        var root = doc.Root;
        var type = root.Element("os")?.Element("type");
        var panic = root.Element("devices")?.Elements("panic").FirstOrDefault();
        return new GuestPanicConfiguration
        {
            Domain = root.Element("name")?.Value ?? "",
            Path = path,
            PanicModel = panic is null ? null : CrashActionNames.PanicModelFromXml((string?)panic.Attribute("model")),
            // libvirt's default is destroy; it refuses values it does not know, so an unknown one is never defined.
            OnCrash = root.Element("on_crash")?.Value is { } onCrash && CrashActionNames.TryFromXml(onCrash, out var action) ? action : CrashAction.Destroy,
            VmcoreInfo = (string?)root.Element("features")?.Element("vmcoreinfo")?.Attribute("state") == "on",
            DumpCore = (string?)root.Element("memory")?.Attribute("dumpCore"),
            Machine = (string?)type?.Attribute("machine"),
            Arch = (string?)type?.Attribute("arch"),
            MemoryBytes = MemoryBytes(root.Element("memory")),
            TakesEffectAtNextBoot = takesEffectAtNextBoot,
            DumpDirectory = dumpDirectory,
            Warnings = warnings,
            Changes = changes,
            Diff = diff,
        };
    }

    /// <summary>&lt;memory unit=...&gt; in bytes; libvirt's default unit is KiB.</summary>
    public static long? MemoryBytes(XElement? memory)
    {
        if (memory is null || !ulong.TryParse(memory.Value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            return null;
        }

        ulong scale = ((string?)memory.Attribute("unit") ?? "KiB") switch
        {
            "b" or "bytes" => 1,
            "KB" => 1000,
            "k" or "KiB" => 1UL << 10,
            "MB" => 1000_000,
            "M" or "MiB" => 1UL << 20,
            "GB" => 1000_000_000,
            "G" or "GiB" => 1UL << 30,
            "TB" => 1000_000_000_000,
            "T" or "TiB" => 1UL << 40,
            _ => 0,
        };
        return scale == 0 || n > (ulong)long.MaxValue / scale ? null : (long)(n * scale);
    }

    private static bool SetAttribute(XElement e, string name, string value)
    {
        if ((string?)e.Attribute(name) == value)
        {
            return false;
        }

        e.SetAttributeValue(name, value);
        return true;
    }

    private static XElement? FirstOf(XElement parent, params string[] names) =>
        parent.Elements().FirstOrDefault(e => names.Contains(e.Name.LocalName) && e.Name.Namespace == XNamespace.None);
}
