using VmDebug;
using VmDebug.Engine.DomainXml;

namespace VmDebug.Engine.HostConfig;

/// <summary>Inputs of Get/Enable/Disable-QemuCoreDump that concern the host.</summary>
public sealed record QemuCoreDumpOptions
{
    public string? ConfigPath { get; init; }
    /// <summary>"unlimited" or a size ("4GiB", "512M", bytes). Enable defaults to unlimited.</summary>
    public string? MaxCore { get; init; }
    /// <summary>Sets dump_guest_core; null leaves it as it is.</summary>
    public bool? IncludeGuestMemory { get; init; }
    public string? AutoDumpPath { get; init; }
    public bool? AutoDumpBypassCache { get; init; }
    /// <summary>RAM of the largest guest (from the libvirt layer), compared with max_core and systemd-coredump caps.</summary>
    public long? LargestGuestRamBytes { get; init; }
    public bool RestartDaemon { get; init; }
    public bool Force { get; init; }
    /// <summary>Active domain jobs reported by libvirt; any of them refuses the restart unless <see cref="Force"/>.</summary>
    public IReadOnlyList<ActiveDomainJob> ActiveJobs { get; init; } = [];
    /// <summary>A specific daemon process to restart (e.g. one started with its own config); null detects it.</summary>
    public int? DaemonProcessId { get; init; }
    /// <summary>The socket clients reach that daemon on (from the connection URI); a restart waits for it to answer again.</summary>
    public string? DaemonSocketPath { get; init; }
    public TimeSpan RestartTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Persistent XML of a libvirt domain whose &lt;memory dumpCore&gt; Enable/Disable set (-Domain).</summary>
    public string? DomainXml { get; init; }
    /// <summary>A domain XML file whose &lt;memory dumpCore&gt; Enable/Disable set (-XmlPath).</summary>
    public string? XmlPath { get; init; }
    public bool DomainIsRunning { get; init; }
    public HostPaths Paths { get; init; } = HostPaths.Default;
}

/// <summary>What Enable/Disable would do; <see cref="Apply"/> does it.</summary>
public sealed class CoreDumpPlan
{
    private readonly LibvirtConfDocument _original;
    private readonly LibvirtConfDocument _updated;
    private readonly QemuCoreDumpOptions _options;

    internal CoreDumpPlan(LibvirtConfDocument original, LibvirtConfDocument updated, QemuCoreDumpOptions options,
        QemuCoreDumpSetting setting, IReadOnlyList<string> changes, DaemonRestartPlan? restart, GuestPanicPlan? domain)
    {
        Domain = domain;
        _original = original;
        _updated = updated;
        _options = options;
        Setting = setting;
        Changes = changes;
        Restart = restart;
    }

    /// <summary>Unified diff of the config file and the domain XML; empty when nothing would change.</summary>
    public string Diff => Setting.Diff;
    /// <summary>The config file would change (the domain is reported by <see cref="Domain"/>).</summary>
    public bool HasChanges => !ReferenceEquals(_original, _updated);
    /// <summary>The &lt;memory dumpCore&gt; edit, when a domain or XML file was given.</summary>
    public GuestPanicPlan? Domain { get; }
    /// <summary>The settings as they would be after Apply.</summary>
    public QemuCoreDumpSetting Setting { get; }
    public IReadOnlyList<string> Changes { get; }
    /// <summary>Null unless a restart was asked for and a daemon exists.</summary>
    public DaemonRestartPlan? Restart { get; }

    /// <summary>Text for -WhatIf: the diff and the restart, if any.</summary>
    public string Describe() =>
        (HasChanges || Domain?.DomainChanged == true ? Diff : $"{_original.Path}: no change.\n") + (Restart is null ? "" : Restart.Description + "\n");

    /// <summary>
    /// Writes the config (atomically, with a backup), the domain (offline file, or through
    /// <paramref name="defineDomainXml"/> for a libvirt domain) and restarts the daemon if planned.
    /// A refused restart throws before anything is written.
    /// </summary>
    public QemuCoreDumpSetting Apply(CancellationToken cancellationToken, Action<string>? defineDomainXml = null)
    {
        Restart?.ThrowIfRefused();
        Domain?.Apply(defineDomainXml, cancellationToken);
        string? backup = null;
        if (HasChanges)
            backup = AtomicFileReplacer.Replace(_original.Path, _updated.ToBytes(), _original.ToBytes(), DateTime.Now, cancellationToken);
        var readBack = _options;
        if (Restart is not null && (HasChanges || Setting.RestartNeeded))
        {
            var newPid = Restart.Apply(_options.RestartTimeout, cancellationToken);
            if (_options.DaemonProcessId is not null) readBack = _options with { DaemonProcessId = newPid };
        }
        var after = CoreDumpConfigurator.Read(readBack);
        return Copy(after, Changes, Diff, backup);
    }

    internal static QemuCoreDumpSetting Copy(QemuCoreDumpSetting s, IReadOnlyList<string> changes, string diff, string? backup,
        IEnumerable<string>? moreWarnings = null) => new()
    {
        ConfigPath = s.ConfigPath, MaxCore = s.MaxCore, MaxCoreBytes = s.MaxCoreBytes, IncludeGuestMemory = s.IncludeGuestMemory,
        AutoDumpPath = s.AutoDumpPath, AutoDumpBypassCache = s.AutoDumpBypassCache, User = s.User, Group = s.Group,
        RestartNeeded = s.RestartNeeded, Daemon = s.Daemon, CorePattern = s.CorePattern,
        HandledBySystemdCoredump = s.HandledBySystemdCoredump, SystemdCoredumpLimits = s.SystemdCoredumpLimits,
        LargestGuestRamBytes = s.LargestGuestRamBytes, Warnings = [.. s.Warnings, .. moreWarnings ?? []], Changes = changes, Diff = diff, BackupPath = backup,
    };
}

/// <summary>Engine entry points of Get-, Enable- and Disable-QemuCoreDump.</summary>
public static class CoreDumpConfigurator
{
    public const string DefaultAutoDumpPath = "/var/lib/libvirt/qemu/dump";

    /// <summary>Get-QemuCoreDumpSetting.</summary>
    public static QemuCoreDumpSetting Read(QemuCoreDumpOptions options)
    {
        var doc = LibvirtConfDocument.Load(ConfigPath(options));
        return Describe(doc, options, Daemon(options), pendingChange: false, [], "");
    }

    /// <summary>Enable-QemuCoreDump: max_core (default unlimited) and, when given, dump_guest_core and auto-dump settings.</summary>
    public static CoreDumpPlan PlanEnable(QemuCoreDumpOptions options)
    {
        var maxCore = options.MaxCore ?? "unlimited";
        var edits = new List<(string Key, LibvirtConfValue? Value)>
        {
            ("max_core", maxCore.Equals("unlimited", StringComparison.OrdinalIgnoreCase)
                ? LibvirtConfValue.FromString("unlimited")
                : LibvirtConfValue.FromInteger(ByteSize.Parse(maxCore, "core size"))),
        };
        if (options.IncludeGuestMemory is { } include) edits.Add(("dump_guest_core", LibvirtConfValue.FromInteger(include ? 1 : 0)));
        AddAutoDumpEdits(options, edits);
        return Plan(options, edits, DumpCoreEdit.On);
    }

    /// <summary>
    /// Disable-QemuCoreDump: removes max_core and dump_guest_core so libvirt's defaults (no cores, guest RAM
    /// excluded) apply again; a line Enable added disappears and the file is as before.
    /// </summary>
    public static CoreDumpPlan PlanDisable(QemuCoreDumpOptions options) =>
        Plan(options, [("max_core", null), ("dump_guest_core", null)], DumpCoreEdit.Remove);

    /// <summary>Only the auto-dump settings (used by Set-GuestPanicDevice -AutoDumpPath/-BypassCache).</summary>
    public static CoreDumpPlan PlanAutoDump(QemuCoreDumpOptions options)
    {
        var edits = new List<(string Key, LibvirtConfValue? Value)>();
        AddAutoDumpEdits(options, edits);
        return Plan(options, edits);
    }

    private static void AddAutoDumpEdits(QemuCoreDumpOptions options, List<(string Key, LibvirtConfValue? Value)> edits)
    {
        if (options.AutoDumpPath is { } dir)
        {
            if (!Path.IsPathFullyQualified(dir))
                throw new VmDebugException("AutoDumpPathNotAbsolute", ErrorKind.InvalidArgument,
                    $"The auto-dump path '{dir}' must be absolute: libvirt writes it from its own working directory.", dir);
            edits.Add(("auto_dump_path", LibvirtConfValue.FromString(dir)));
        }
        if (options.AutoDumpBypassCache is { } bypass) edits.Add(("auto_dump_bypass_cache", LibvirtConfValue.FromInteger(bypass ? 1 : 0)));
    }

    /// <param name="dumpCore">&lt;memory dumpCore&gt; for the domain, if one was given: "on", or null to remove it.</param>
    private static CoreDumpPlan Plan(QemuCoreDumpOptions options, List<(string Key, LibvirtConfValue? Value)> edits, DumpCoreEdit? dumpCore = null)
    {
        var original = LibvirtConfDocument.Load(ConfigPath(options));
        var updated = original;
        var changes = new List<string>();
        foreach (var (key, value) in edits)
        {
            var before = updated;
            updated = value is null ? updated.Without(key) : updated.With(key, value);
            if (!ReferenceEquals(before, updated))
                changes.Add(value is null ? $"Remove {key} (libvirt default applies)" : $"Set {key} = {LibvirtConfText.ToUtf8(value.Text)}");
        }
        var diff = UnifiedDiff.Create(LibvirtConfText.ToUtf8(original.Text), LibvirtConfText.ToUtf8(updated.Text), original.Path, original.Path);
        GuestPanicPlan? domain = null;
        if (dumpCore is not null && (options.DomainXml is not null || options.XmlPath is not null))
        {
            domain = GuestPanicConfigurator.Plan(new GuestPanicOptions
            {
                DomainXml = options.DomainXml, XmlPath = options.XmlPath, DomainIsRunning = options.DomainIsRunning,
                Model = null, VmcoreInfo = null, DumpCore = dumpCore, ConfigPath = original.Path, Paths = options.Paths,
            });
            changes.AddRange(domain.Configuration.Changes);
            diff += domain.Diff;
        }
        var daemon = Daemon(options);
        var predicted = Describe(updated, options, daemon, pendingChange: !ReferenceEquals(original, updated), changes, diff);
        DaemonRestartPlan? restart = null;
        if (options.RestartDaemon && daemon is not null)
            restart = DaemonRestartPlan.Create(daemon, options.ActiveJobs, options.Force, options.Paths);
        return new CoreDumpPlan(original, updated, options, predicted, changes, restart, domain);
    }

    private static string ConfigPath(QemuCoreDumpOptions options) => options.ConfigPath ?? options.Paths.QemuConf;

    private static LibvirtDaemonInfo? Daemon(QemuCoreDumpOptions options) => LibvirtDaemonLocator.Detect(options.Paths, options.DaemonProcessId, options.DaemonSocketPath);

    /// <summary>Effective values as libvirt's qemu driver reads them, plus where cores go and what to watch out for.</summary>
    internal static QemuCoreDumpSetting Describe(LibvirtConfDocument doc, QemuCoreDumpOptions options, LibvirtDaemonInfo? daemon,
        bool pendingChange, IReadOnlyList<string> changes, string diff)
    {
        var warnings = new List<string>();
        foreach (var dup in doc.Entries.GroupBy(e => e.Name).Where(g => g.Count() > 1 && Watched.Contains(g.Key)))
            warnings.Add($"{dup.Key} is set on lines {string.Join(", ", dup.Select(e => e.Line))}; libvirt uses the first.");

        string maxCore = "0";
        long? maxCoreBytes = 0;
        if (doc.Find("max_core") is { } mc)
        {
            if (mc.Value.Kind == LibvirtConfValueKind.String && mc.Value.String == "unlimited") { maxCore = "unlimited"; maxCoreBytes = null; }
            else if (mc.Value.Kind == LibvirtConfValueKind.Integer && mc.Value.Integer >= 0) { maxCore = mc.Value.Text; maxCoreBytes = mc.Value.Integer; }
            else warnings.Add($"max_core = {mc.Value.Text} on line {mc.Line} is rejected by libvirt: it must be \"unlimited\" or a byte count.");
        }
        bool includeGuestMemory = Flag(doc, "dump_guest_core", warnings);
        bool bypassCache = Flag(doc, "auto_dump_bypass_cache", warnings);
        var autoDumpPath = doc.GetString("auto_dump_path") ?? DefaultAutoDumpPath;
        // Stock files show the build's user/group as commented defaults; upstream's built-in default is root.
        var user = doc.GetString("user") ?? doc.GetCommentedDefaultString("user") ?? "root";
        var group = doc.GetString("group") ?? doc.GetCommentedDefaultString("group") ?? "root";

        if (maxCoreBytes == 0)
            warnings.Add("max_core is 0 (libvirt's default): QEMU processes write no core dumps.");
        else if (!includeGuestMemory)
            warnings.Add("dump_guest_core is off: QEMU cores leave guest RAM out unless a domain sets <memory dumpCore='on'>.");
        if (includeGuestMemory && maxCoreBytes is > 0 && options.LargestGuestRamBytes is { } ram && maxCoreBytes < ram + (1L << 30))
            warnings.Add($"max_core ({ByteSize.Format(maxCoreBytes.Value)}) is below the largest guest's RAM plus 1 GiB ({ByteSize.Format(ram + (1L << 30))}): its cores would be cut short.");

        var corePattern = CoreDestination.ReadCorePattern(options.Paths);
        bool systemd = CoreDestination.IsSystemdCoredump(corePattern);
        var limits = systemd ? CoreDestination.ReadSystemdCoredumpLimits(options.Paths) : null;
        if (maxCoreBytes != 0)
            warnings.AddRange(CoreDestination.Assess(corePattern, limits, options.LargestGuestRamBytes, includeGuestMemory));

        bool restartNeeded = false;
        if (daemon?.StartedAt is { } started)
        {
            restartNeeded = pendingChange || File.GetLastWriteTimeUtc(doc.Path) > started;
            if (restartNeeded)
                warnings.Add($"{daemon.Name} (PID {daemon.ProcessId}) must be restarted before new guests get these settings.");
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
        if (e is null) return false;
        if (e.Value.Kind == LibvirtConfValueKind.Integer && e.Value.Integer is 0 or 1) return e.Value.Integer == 1;
        warnings.Add($"{key} = {e.Value.Text} on line {e.Line} is rejected by libvirt: it must be 0 or 1.");
        return false;
    }
}
