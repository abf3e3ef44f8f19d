using System.Globalization;
using System.Xml.Linq;

namespace VmDebug.Engine.DomainXml;

/// <summary>
/// Panic device models libvirt knows. Auto lets <see cref="PanicModelSelector"/> decide when a domain has no panic
/// device yet; read back, it is a &lt;panic&gt; that names no model (libvirt then picks by architecture).
/// </summary>
public enum GuestPanicModel { Auto, Isa, Pvpanic, Hyperv, Pseries, S390 }

/// <summary>&lt;memory dumpCore&gt; edits: on, off, or remove (qemu.conf dump_guest_core decides again).</summary>
public enum DumpCoreEdit { On, Off, Remove }

/// <summary>libvirt's &lt;on_crash&gt; actions.</summary>
public enum CrashAction { Destroy, Restart, Preserve, RenameRestart, CoredumpDestroy, CoredumpRestart }

public static class CrashActionNames
{
    public static string ToXml(this CrashAction a) => a switch
    {
        CrashAction.Destroy => "destroy",
        CrashAction.Restart => "restart",
        CrashAction.Preserve => "preserve",
        CrashAction.RenameRestart => "rename-restart",
        CrashAction.CoredumpDestroy => "coredump-destroy",
        _ => "coredump-restart",
    };

    public static string ToXml(this GuestPanicModel m) => m.ToString().ToLowerInvariant();

    /// <summary>libvirt's spelling (coredump-restart) or the enum's name (CoredumpRestart) back to the enum; the CLI takes both.</summary>
    public static CrashAction ParseCrashAction(string text) =>
        TryFromXml(text, out var action) || (Enum.TryParse(text.Trim(), ignoreCase: true, out action) && Enum.IsDefined(action) && !int.TryParse(text, out _))
            ? action
            : throw new VmDebugException("CrashActionInvalid", ErrorKind.InvalidArgument,
                $"'{text}' is not an on_crash action; use one of {string.Join(", ", Enum.GetValues<CrashAction>().Select(a => a.ToXml()))}.", text);

    /// <summary>An &lt;on_crash&gt; value as libvirt writes it.</summary>
    public static bool TryFromXml(string text, out CrashAction action)
    {
        var wanted = text.Trim().ToLowerInvariant();
        foreach (var candidate in Enum.GetValues<CrashAction>())
        {
            if (candidate.ToXml() == wanted)
            {
                action = candidate;
                return true;
            }
        }

        action = default;
        return false;
    }

    /// <summary>A &lt;panic model&gt; as libvirt writes it; a panic device naming no model (or one unknown here) is Auto.</summary>
    public static GuestPanicModel PanicModelFromXml(string? model) =>
        model is not null && Enum.TryParse<GuestPanicModel>(model, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !int.TryParse(model, out _)
            ? parsed
            : GuestPanicModel.Auto;

    public static GuestPanicModel ParsePanicModel(string text) =>
        Enum.TryParse<GuestPanicModel>(text.Trim(), ignoreCase: true, out var model) && Enum.IsDefined(model) && !int.TryParse(text, out _)
            ? model
            : throw new VmDebugException("PanicModelInvalid", ErrorKind.InvalidArgument,
                $"'{text}' is not a panic device model; use one of {string.Join(", ", Enum.GetValues<GuestPanicModel>().Select(m => m.ToXml()))}.", text);
}

/// <summary>The panic device model refused for this libvirt, architecture or machine.</summary>
public sealed class PanicModelNotSupportedException(string model, string reason)
    : VmDebugException("PanicModelNotSupported", ErrorKind.InvalidArgument, $"Panic model '{model}' cannot be used: {reason}.", model);

/// <summary>Picks a panic device model the way libvirt and QEMU allow it.</summary>
public static class PanicModelSelector
{
    /// <summary>libvirt accepts &lt;panic model='pvpanic'/&gt; (the PCI device) from 9.1.0; 9.0 rejects it.</summary>
    public static readonly Version PvpanicSince = new(9, 1, 0);

    public static GuestPanicModel Choose(GuestPanicModel requested, Version? libvirtVersion, string? arch, string? machine, List<string> warnings)
    {
        var family = ArchFamily(arch);
        bool pvpanicOk = libvirtVersion is not null && libvirtVersion >= PvpanicSince;
        if (requested == GuestPanicModel.Auto)
        {
            if (libvirtVersion is null)
                warnings.Add("The libvirt version is unknown; the panic model was chosen as for libvirt before 9.1.0.");
            return family switch
            {
                "ppc" => GuestPanicModel.Pseries,
                "s390" => GuestPanicModel.S390,
                // microvm has no PCI bus; the ISA device works on pc and q35 with every libvirt.
                "x86" => pvpanicOk && machine?.StartsWith("microvm", StringComparison.Ordinal) != true ? GuestPanicModel.Pvpanic : GuestPanicModel.Isa,
                _ when pvpanicOk => GuestPanicModel.Pvpanic,
                _ => throw new PanicModelNotSupportedException("auto",
                    $"libvirt {libvirtVersion?.ToString() ?? "(unknown version)"} offers no panic device for {arch ?? "this architecture"}; the PCI pvpanic model needs libvirt {PvpanicSince}"),
            };
        }
        switch (requested)
        {
            case GuestPanicModel.Pvpanic when libvirtVersion is not null && !pvpanicOk:
                throw new PanicModelNotSupportedException("pvpanic", $"libvirt {libvirtVersion} rejects it; the PCI pvpanic model arrived in libvirt {PvpanicSince}. Use Isa");
            case GuestPanicModel.Isa or GuestPanicModel.Hyperv when family is not ("x86" or null):
                throw new PanicModelNotSupportedException(requested.ToXml(), $"it exists only on x86 guests, and this one is {arch}");
            case GuestPanicModel.Pseries when family is not ("ppc" or null):
            case GuestPanicModel.S390 when family is not ("s390" or null):
                throw new PanicModelNotSupportedException(requested.ToXml(), $"it does not exist on {arch} guests");
        }
        if (requested == GuestPanicModel.Hyperv)
            warnings.Add("The hyperv panic model reports crashes only from Windows guests with Hyper-V enlightenments.");
        return requested;
    }

    private static string? ArchFamily(string? arch) => arch switch
    {
        null => null,
        "x86_64" or "i686" or "i386" => "x86",
        _ when arch.StartsWith("ppc", StringComparison.Ordinal) => "ppc",
        _ when arch.StartsWith("s390", StringComparison.Ordinal) => "s390",
        _ => arch,
    };
}

/// <summary>Surgical edits of the crash-related parts of a domain XML.</summary>
public static class GuestPanicEditor
{
    /// <summary>Sets or removes &lt;memory dumpCore&gt; without touching the element's value or unit.</summary>
    public static bool SetDumpCore(DomainXmlDocument doc, DumpCoreEdit edit)
    {
        var memory = doc.Root.Element("memory")
            ?? throw new VmDebugException("DomainXmlInvalid", ErrorKind.InvalidData, "The domain XML has no <memory> element.", doc.Root.Element("name")?.Value);
        if (edit != DumpCoreEdit.Remove) return SetAttribute(memory, "dumpCore", edit == DumpCoreEdit.On ? "on" : "off");
        if (memory.Attribute("dumpCore") is not { } a) return false;
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
            if (!on) return false;
            features = new XElement("features");
            // libvirt's order: ... os, idmap, features, cpu, clock, on_*, pm, devices.
            var after = doc.Root.Element("idmap") ?? doc.Root.Element("os");
            var before = after is null ? FirstOf(doc.Root, "cpu", "clock", "on_poweroff", "on_reboot", "on_crash", "devices") : null;
            DomainXmlDocument.Insert(doc.Root, features, after, before);
        }
        if (features.Element("vmcoreinfo") is { } existing) return SetAttribute(existing, "state", state);
        // No element means off already: writing state='off' would be a change that changes nothing.
        if (!on) return false;
        DomainXmlDocument.Insert(features, new XElement("vmcoreinfo", new XAttribute("state", state)));
        return true;
    }

    /// <summary>&lt;on_crash&gt;, inserted after on_poweroff/on_reboot as libvirt orders them.</summary>
    public static bool SetOnCrash(DomainXmlDocument doc, CrashAction action)
    {
        var value = action.ToXml();
        if (doc.Root.Element("on_crash") is { } existing)
        {
            if (existing.Value == value) return false;
            existing.Value = value;
            return true;
        }
        // No element means destroy already (libvirt's default).
        if (action == CrashAction.Destroy) return false;
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
        if (panics.Any(p => (string?)p.Attribute("model") == name)) return false;
        var replaceable = panics.FirstOrDefault(p => model != GuestPanicModel.Hyperv && (string?)p.Attribute("model") != "hyperv");
        if (replaceable is not null)
        {
            replaceable.SetAttributeValue("model", name);
            foreach (var address in replaceable.Elements("address").ToList()) DomainXmlDocument.Remove(address);
            if (!replaceable.Nodes().OfType<XElement>().Any()) replaceable.RemoveNodes();
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
        if (memory is null || !ulong.TryParse(memory.Value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return null;
        ulong scale = ((string?)memory.Attribute("unit") ?? "KiB") switch
        {
            "b" or "bytes" => 1,
            "KB" => 1000, "k" or "KiB" => 1UL << 10,
            "MB" => 1000_000, "M" or "MiB" => 1UL << 20,
            "GB" => 1000_000_000, "G" or "GiB" => 1UL << 30,
            "TB" => 1000_000_000_000, "T" or "TiB" => 1UL << 40,
            _ => 0,
        };
        return scale == 0 || n > (ulong)long.MaxValue / scale ? null : (long)(n * scale);
    }

    private static bool SetAttribute(XElement e, string name, string value)
    {
        if ((string?)e.Attribute(name) == value) return false;
        e.SetAttributeValue(name, value);
        return true;
    }

    private static XElement? FirstOf(XElement parent, params string[] names) =>
        parent.Elements().FirstOrDefault(e => names.Contains(e.Name.LocalName) && e.Name.Namespace == XNamespace.None);
}
