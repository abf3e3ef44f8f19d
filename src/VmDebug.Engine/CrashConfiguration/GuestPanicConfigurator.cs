using System.Text;
using VmDebug;

namespace VmDebug.Engine.CrashConfiguration;

/// <summary>Engine entry points of Set-GuestPanicDevice and Get-GuestPanicDevice.</summary>
public static class GuestPanicConfigurator
{
    /// <summary>Get-GuestPanicDevice: reads the domain and checks the host side of auto-dumps.</summary>
    public static GuestPanicConfiguration Read(GuestPanicOptions options) =>
        Plan(options with { Model = null, OnCrash = null, VmcoreInfo = null, DumpCore = null, AutoDumpPath = null, BypassCache = null }).Configuration;

    public static GuestPanicPlan Plan(GuestPanicOptions options)
    {
        if ((options.DomainXml is null) == (options.XmlPath is null))
            throw new VmDebugException("DomainSourceAmbiguous", ErrorKind.InvalidArgument, "Give either a libvirt domain or an XML file, not both or neither.", null);
        string original;
        if (options.XmlPath is { } xmlPath)
        {
            if (!File.Exists(xmlPath))
                throw new VmDebugException("DomainXmlNotFound", ErrorKind.ObjectNotFound, $"The domain XML file {xmlPath} does not exist.", xmlPath);
            original = File.ReadAllText(xmlPath);
        }
        else original = options.DomainXml!;

        var doc = DomainXmlDocument.Parse(original, options.XmlPath);
        var warnings = new List<string>();
        var changes = new List<string>();
        var type = doc.Root.Element("os")?.Element("type");
        string? arch = (string?)type?.Attribute("arch"), machine = (string?)type?.Attribute("machine");

        // Auto picks a model only for a domain without a panic device: a Set leaves an existing one as it is.
        if (options.Model is { } requested && !(requested == GuestPanicModel.Auto && doc.Root.Element("devices")?.Element("panic") is not null))
        {
            var model = PanicModelSelector.Choose(requested, options.LibvirtVersion, arch, machine, warnings);
            if (GuestPanicEditor.SetPanic(doc, model)) changes.Add($"Panic device model '{model.ToXml()}'");
        }
        if (options.OnCrash is { } action && GuestPanicEditor.SetOnCrash(doc, action)) changes.Add($"on_crash = {action.ToXml()}");
        if (options.VmcoreInfo is { } vmci && GuestPanicEditor.SetVmcoreInfo(doc, vmci)) changes.Add($"vmcoreinfo state = {(vmci ? "on" : "off")}");
        if (options.DumpCore is { } dc && GuestPanicEditor.SetDumpCore(doc, dc))
            changes.Add(dc == DumpCoreEdit.Remove ? "Remove memory dumpCore (qemu.conf dump_guest_core applies)" : $"memory dumpCore = {dc.ToString().ToLowerInvariant()}");

        var updated = changes.Count > 0 ? doc.ToString() : original;
        var label = options.XmlPath ?? $"domain {doc.Root.Element("name")?.Value}";
        var diff = UnifiedDiff.Create(original, updated, label, label);

        CoreDumpPlan? hostPlan = null;
        var confPath = options.ConfigPath ?? options.Paths.QemuConf;
        QemuCoreDumpSetting? host = null;
        if (options.AutoDumpPath is not null || options.BypassCache is not null)
        {
            hostPlan = CoreDumpConfigurator.PlanAutoDump(new QemuCoreDumpOptions
            {
                ConfigPath = confPath, AutoDumpPath = options.AutoDumpPath, AutoDumpBypassCache = options.BypassCache, Paths = options.Paths,
            });
            host = hostPlan.Setting;
            changes.AddRange(hostPlan.Changes);
            if (hostPlan.HasChanges)
                warnings.Add($"{confPath} changes: the libvirt daemon reads it only when it starts, so restart it before the next panic.");
            diff += hostPlan.Diff;
        }
        else if (File.Exists(confPath))
            host = CoreDumpConfigurator.Read(new QemuCoreDumpOptions { ConfigPath = confPath, Paths = options.Paths });

        var current = GuestPanicEditor.Read(DomainXmlDocument.Parse(updated), null, false, [], [], "");
        warnings.AddRange(DomainWarnings(current));
        DumpDirectoryStatus? dumpDir = null;
        if (DumpsOnCrash(current.OnCrash))
        {
            if (host is null)
                warnings.Add($"{confPath} was not found: the auto-dump directory and QEMU's user are unknown.");
            else
            {
                dumpDir = DumpDirectoryInspector.Inspect(host.AutoDumpPath, host.User, host.Group, current.MemoryBytes, host.AutoDumpBypassCache);
                warnings.AddRange(dumpDir.Warnings);
            }
        }
        bool nextBoot = options.DomainIsRunning && (options.XmlPath is null) && changes.Count > 0 && updated != original;
        if (nextBoot) warnings.Add("The domain is running: its persistent definition changed, and the change takes effect at its next boot.");
        var configuration = GuestPanicEditor.Read(DomainXmlDocument.Parse(updated), options.XmlPath, nextBoot, warnings, changes, diff, dumpDir);
        return new GuestPanicPlan(options, original, updated, hostPlan, configuration);
    }

    private static bool DumpsOnCrash(CrashAction action) => action is CrashAction.CoredumpDestroy or CrashAction.CoredumpRestart;

    private static IEnumerable<string> DomainWarnings(GuestPanicConfiguration c)
    {
        if (c.PanicModel is null && c.OnCrash != CrashAction.Destroy)
            yield return $"on_crash is {c.OnCrash.ToXml()}, but without a panic device the guest never reports a panic to QEMU.";
        if (c.OnCrash == CrashAction.CoredumpRestart)
            yield return $"coredump-restart loops on a guest that panics at boot: one full-RAM dump ({(c.MemoryBytes is { } m ? ByteSize.Format(m) : "guest RAM size")}) per boot until the disk fills.";
        if (DumpsOnCrash(c.OnCrash) && !c.VmcoreInfo)
            yield return "vmcoreinfo is off: dumps will carry no VMCOREINFO note, so tools cannot find the kernel's layout on their own.";
    }
}
