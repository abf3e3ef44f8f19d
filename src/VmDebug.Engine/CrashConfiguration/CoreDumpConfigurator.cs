namespace VmDebug.Engine.CrashConfiguration;

/// <summary>Engine entry points of Get-, Enable- and Disable-QemuCoreDump.</summary>
internal static class CoreDumpConfigurator
{
    public const string DefaultAutoDumpPath = "/var/lib/libvirt/qemu/dump";

    /// <summary>Get-QemuCoreDumpSetting.</summary>
    public static QemuCoreDumpSetting Read(CoreDumpRequest options)
    {
        var doc = LibvirtConfDocument.Load(ConfigPath(options));
        return Describe(doc, options, Daemon(options), pendingChange: false, [], "");
    }

    /// <summary>Enable-QemuCoreDump: max_core (default unlimited) and, when given, dump_guest_core and auto-dump settings.</summary>
    public static CoreDumpPlan PlanEnable(CoreDumpRequest options)
    {
        var maxCore = options.MaxCore ?? "unlimited";
        var edits = new List<(string Key, LibvirtConfValue? Value)>
        {
            ("max_core", maxCore.Equals("unlimited", StringComparison.OrdinalIgnoreCase)
                ? LibvirtConfValue.FromString("unlimited")
                : LibvirtConfValue.FromInteger(ByteSize.Parse(maxCore, "core size"))),
        };
        if (options.IncludeGuestMemory is { } include)
        {
            edits.Add(("dump_guest_core", LibvirtConfValue.FromInteger(include ? 1 : 0)));
        }

        AddAutoDumpEdits(options, edits);
        return Plan(options, edits, DumpCoreEdit.On);
    }

    /// <summary>
    /// Disable-QemuCoreDump: removes max_core and dump_guest_core so libvirt's defaults (no cores, guest RAM
    /// excluded) apply again; a line Enable added disappears and the file is as before.
    /// </summary>
    public static CoreDumpPlan PlanDisable(CoreDumpRequest options) =>
        Plan(options, [("max_core", null), ("dump_guest_core", null)], DumpCoreEdit.Remove);

    /// <summary>Only the auto-dump settings (used by Set-GuestPanicDevice -AutoDumpPath/-BypassCache).</summary>
    public static CoreDumpPlan PlanAutoDump(CoreDumpRequest options)
    {
        var edits = new List<(string Key, LibvirtConfValue? Value)>();
        AddAutoDumpEdits(options, edits);
        return Plan(options, edits);
    }

    private static void AddAutoDumpEdits(CoreDumpRequest options, List<(string Key, LibvirtConfValue? Value)> edits)
    {
        if (options.AutoDumpPath is { } dir)
        {
            if (!Path.IsPathFullyQualified(dir))
            {
                throw new VmDebugException("AutoDumpPathNotAbsolute", ErrorKind.InvalidArgument,
                    $"The auto-dump path '{dir}' must be absolute: libvirt writes it from its own working directory.", dir);
            }

            edits.Add(("auto_dump_path", LibvirtConfValue.FromString(dir)));
        }
        if (options.AutoDumpBypassCache is { } bypass)
        {
            edits.Add(("auto_dump_bypass_cache", LibvirtConfValue.FromInteger(bypass ? 1 : 0)));
        }
    }

    /// <param name="dumpCore">&lt;memory dumpCore&gt; for the domain, if one was given: "on", or null to remove it.</param>
    private static CoreDumpPlan Plan(CoreDumpRequest options, List<(string Key, LibvirtConfValue? Value)> edits, DumpCoreEdit? dumpCore = null)
    {
        var original = LibvirtConfDocument.Load(ConfigPath(options));
        var updated = original;
        var changes = new List<string>();
        foreach (var (key, value) in edits)
        {
            var before = updated;
            updated = value is null ? updated.Without(key) : updated.With(key, value);
            if (!ReferenceEquals(before, updated))
            {
                changes.Add(value is null ? $"Remove {key} (libvirt default applies)" : $"Set {key} = {LibvirtConfText.ToUtf8(value.Text)}");
            }
        }
        var diff = UnifiedDiff.Create(LibvirtConfText.ToUtf8(original.Text), LibvirtConfText.ToUtf8(updated.Text), original.Path, original.Path);
        DomainXmlEdit? domain = null;
        if (dumpCore is { } edit && (options.DomainXml is not null || options.XmlPath is not null))
        {
            domain = DomainXmlEdit.Load(options.DomainXml, options.XmlPath, options.DomainIsRunning);
            domain.SetDumpCore(edit);
            changes.AddRange(domain.Changes);
            diff += domain.Diff;
        }
        var daemon = Daemon(options);
        var predicted = Describe(updated, options, daemon, pendingChange: !ReferenceEquals(original, updated), changes, diff);
        DaemonRestartPlan? restart = null;
        if (options.RestartDaemon && daemon is not null)
        {
            restart = DaemonRestartPlan.Create(daemon, options.ActiveJobs, options.Force, options.Paths);
        }

        return new CoreDumpPlan(original, updated, options, predicted, changes, restart, domain);
    }

    private static string ConfigPath(CoreDumpRequest options) => options.ConfigPath ?? options.Paths.QemuConf;

    private static LibvirtDaemonInfo? Daemon(CoreDumpRequest options) => LibvirtDaemonLocator.Detect(options.Paths, options.DaemonProcessId, options.DaemonSocketPath);

    /// <summary>Effective values as libvirt's qemu driver reads them, plus where cores go and what to watch out for.</summary>
    internal static QemuCoreDumpSetting Describe(LibvirtConfDocument doc, CoreDumpRequest options, LibvirtDaemonInfo? daemon,
        bool pendingChange, IReadOnlyList<string> changes, string diff)
    {
        var warnings = new List<string>();
        foreach (var dup in doc.Entries.GroupBy(e => e.Name).Where(g => g.Count() > 1 && Watched.Contains(g.Key)))
        {
            warnings.Add($"{dup.Key} is set on lines {string.Join(", ", dup.Select(e => e.Line))}; libvirt uses the first.");
        }

        var maxCore = "0";
        long? maxCoreBytes = 0;
        if (doc.Find("max_core") is { } mc)
        {
            if (mc.Value.Kind == LibvirtConfValueKind.String && mc.Value.String == "unlimited") { maxCore = "unlimited"; maxCoreBytes = null; }
            else if (mc.Value.Kind == LibvirtConfValueKind.Integer && mc.Value.Integer >= 0) { maxCore = mc.Value.Text; maxCoreBytes = mc.Value.Integer; }
            else
            {
                warnings.Add($"max_core = {mc.Value.Text} on line {mc.Line} is rejected by libvirt: it must be \"unlimited\" or a byte count.");
            }
        }
        var includeGuestMemory = Flag(doc, "dump_guest_core", warnings);
        var bypassCache = Flag(doc, "auto_dump_bypass_cache", warnings);
        var autoDumpPath = doc.GetString("auto_dump_path") ?? DefaultAutoDumpPath;
        // Stock files show the build's user/group as commented defaults; upstream's built-in default is root.
        var user = doc.GetString("user") ?? doc.GetCommentedDefaultString("user") ?? "root";
        var group = doc.GetString("group") ?? doc.GetCommentedDefaultString("group") ?? "root";

        if (maxCoreBytes == 0)
        {
            warnings.Add("max_core is 0 (libvirt's default): QEMU processes write no core dumps.");
        }
        else if (!includeGuestMemory)
        {
            warnings.Add("dump_guest_core is off: QEMU cores leave guest RAM out unless a domain sets <memory dumpCore='on'>.");
        }

        if (includeGuestMemory && maxCoreBytes is > 0 && options.LargestGuestRamBytes is { } ram && maxCoreBytes < ram + (1L << 30))
        {
            warnings.Add($"max_core ({Units.FormatBytes(maxCoreBytes.Value)}) is below the largest guest's RAM plus 1 GiB ({Units.FormatBytes(ram + (1L << 30))}): its cores would be cut short.");
        }

        var corePattern = CoreDestination.ReadCorePattern(options.Paths);
        var systemd = CoreDestination.IsSystemdCoredump(corePattern);
        var limits = systemd ? CoreDestination.ReadSystemdCoredumpLimits(options.Paths) : null;
        if (maxCoreBytes != 0)
        {
            warnings.AddRange(CoreDestination.Assess(corePattern, limits, options.LargestGuestRamBytes, includeGuestMemory));
        }

        var restartNeeded = false;
        if (daemon?.StartedAt is { } started)
        {
            restartNeeded = pendingChange || File.GetLastWriteTimeUtc(doc.Path) > started;
            if (restartNeeded)
            {
                warnings.Add($"{daemon.Name} (PID {daemon.ProcessId}) must be restarted before new guests get these settings.");
            }
        }
        return new QemuCoreDumpSetting
        {
            ConfigPath = doc.Path,
            MaxCore = maxCore,
            MaxCoreBytes = maxCoreBytes,
            IncludeGuestMemory = includeGuestMemory,
            AutoDumpPath = autoDumpPath,
            AutoDumpBypassCache = bypassCache,
            User = user,
            Group = group,
            RestartNeeded = restartNeeded,
            Daemon = daemon,
            CorePattern = corePattern,
            HandledBySystemdCoredump = systemd,
            SystemdCoredumpLimits = limits,
            LargestGuestRamBytes = options.LargestGuestRamBytes,
            Warnings = warnings,
            Changes = changes,
            Diff = diff,
        };
    }

    private static readonly string[] Watched = ["max_core", "dump_guest_core", "auto_dump_path", "auto_dump_bypass_cache", "user", "group"];

    /// <summary>libvirt booleans are the integers 0 and 1 (virConfGetValueBool).</summary>
    private static bool Flag(LibvirtConfDocument doc, string key, List<string> warnings)
    {
        var e = doc.Find(key);
        if (e is null)
        {
            return false;
        }

        if (e.Value.Kind == LibvirtConfValueKind.Integer && e.Value.Integer is 0 or 1)
        {
            return e.Value.Integer == 1;
        }

        warnings.Add($"{key} = {e.Value.Text} on line {e.Line} is rejected by libvirt: it must be 0 or 1.");
        return false;
    }
}
