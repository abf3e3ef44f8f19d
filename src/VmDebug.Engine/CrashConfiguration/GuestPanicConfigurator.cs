namespace VmDebug.Engine.CrashConfiguration;

/// <summary>Plans Set-GuestPanicDevice and reads for Get-GuestPanicDevice, on a domain XML already fetched or a file.</summary>
internal static class GuestPanicConfigurator
{
    /// <summary>Get-GuestPanicDevice: reads the domain and checks the host side of auto-dumps.</summary>
    public static GuestPanicConfiguration Read(GuestPanicRequest request) =>
        Plan(request with { Model = null, OnCrash = null, VmcoreInfo = null, DumpCore = null, AutoDumpPath = null, BypassCache = null }).Configuration;

    public static GuestPanicPlan Plan(GuestPanicRequest options)
    {
        var edit = DomainXmlEdit.Load(options.DomainXml, options.XmlPath, options.DomainIsRunning);
        var doc = edit.Document;
        var warnings = new List<string>();
        var type = doc.Root.Element("os")?.Element("type");
        string? arch = (string?)type?.Attribute("arch"), machine = (string?)type?.Attribute("machine");

        // Auto picks a model only for a domain without a panic device: a Set leaves an existing one as it is.
        if (options.Model is { } requested && !(requested == GuestPanicModel.Auto && doc.Root.Element("devices")?.Element("panic") is not null))
        {
            var model = PanicModelSelector.Choose(requested, options.LibvirtVersion, arch, machine, warnings);
            edit.Record(GuestPanicEditor.SetPanic(doc, model), $"Panic device model '{model.ToXml()}'");
        }
        if (options.OnCrash is { } action)
        {
            edit.Record(GuestPanicEditor.SetOnCrash(doc, action), $"on_crash = {action.ToXml()}");
        }

        if (options.VmcoreInfo is { } vmci)
        {
            edit.Record(GuestPanicEditor.SetVmcoreInfo(doc, vmci), $"vmcoreinfo state = {(vmci ? "on" : "off")}");
        }

        if (options.DumpCore is { } dumpCore)
        {
            edit.SetDumpCore(dumpCore);
        }

        var updated = edit.UpdatedXml;
        var changes = edit.Changes.ToList();
        var diff = edit.Diff;

        CoreDumpPlan? hostPlan = null;
        var confPath = options.ConfigPath ?? options.Paths.QemuConf;
        QemuCoreDumpSetting? host = null;
        if (options.AutoDumpPath is not null || options.BypassCache is not null)
        {
            hostPlan = CoreDumpConfigurator.PlanAutoDump(new CoreDumpRequest
            {
                ConfigPath = confPath,
                AutoDumpPath = options.AutoDumpPath,
                AutoDumpBypassCache = options.BypassCache,
                Paths = options.Paths,
            });
            host = hostPlan.Setting;
            changes.AddRange(hostPlan.Changes);
            if (hostPlan.HasChanges)
            {
                warnings.Add($"{confPath} changes: the libvirt daemon reads it only when it starts, so restart it before the next panic.");
            }

            diff += hostPlan.Diff;
        }
        else if (File.Exists(confPath))
        {
            host = CoreDumpConfigurator.Read(new CoreDumpRequest { ConfigPath = confPath, Paths = options.Paths });
        }

        var current = GuestPanicEditor.Read(DomainXmlDocument.Parse(updated), null, false, [], [], "");
        warnings.AddRange(DomainWarnings(current));
        DumpDirectoryStatus? dumpDir = null;
        if (DumpsOnCrash(current.OnCrash))
        {
            if (host is null)
            {
                warnings.Add($"{confPath} was not found: the auto-dump directory and QEMU's user are unknown.");
            }
            else
            {
                dumpDir = DumpDirectoryInspector.Inspect(host.AutoDumpPath, host.User, host.Group, current.MemoryBytes, host.AutoDumpBypassCache);
                warnings.AddRange(dumpDir.Warnings);
            }
        }
        var nextBoot = edit.TakesEffectAtNextBoot;
        if (nextBoot)
        {
            warnings.Add("The domain is running: its persistent definition changed, and the change takes effect at its next boot.");
        }

        var configuration = GuestPanicEditor.Read(DomainXmlDocument.Parse(updated), options.XmlPath, nextBoot, warnings, changes, diff, dumpDir);
        return new GuestPanicPlan(edit, hostPlan, configuration);
    }

    private static bool DumpsOnCrash(CrashAction action) => action is CrashAction.CoredumpDestroy or CrashAction.CoredumpRestart;

    private static IEnumerable<string> DomainWarnings(GuestPanicConfiguration c)
    {
        if (c.PanicModel is null && c.OnCrash != CrashAction.Destroy)
        {
            yield return $"on_crash is {c.OnCrash.ToXml()}, but without a panic device the guest never reports a panic to QEMU.";
        }

        if (c.OnCrash == CrashAction.CoredumpRestart)
        {
            yield return $"coredump-restart loops on a guest that panics at boot: one full-RAM dump ({(c.MemoryBytes is { } m ? Units.FormatBytes(m) : "guest RAM size")}) per boot until the disk fills.";
        }

        if (DumpsOnCrash(c.OnCrash) && !c.VmcoreInfo)
        {
            yield return "vmcoreinfo is off: dumps will carry no VMCOREINFO note, so tools cannot find the kernel's layout on their own.";
        }
    }
}
