namespace VmDebug.Engine.CrashConfiguration;

/// <summary>What Enable/Disable would do; <see cref="Apply"/> does it.</summary>
internal sealed class CoreDumpPlan
{
    private readonly LibvirtConfDocument _original;
    private readonly LibvirtConfDocument _updated;
    private readonly CoreDumpRequest _options;

    internal CoreDumpPlan(LibvirtConfDocument original, LibvirtConfDocument updated, CoreDumpRequest options,
        QemuCoreDumpSetting setting, IReadOnlyList<string> changes, DaemonRestartPlan? restart, DomainXmlEdit? domain)
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
    public DomainXmlEdit? Domain { get; }
    /// <summary>The settings as they would be after Apply.</summary>
    public QemuCoreDumpSetting Setting { get; }
    public IReadOnlyList<string> Changes { get; }
    /// <summary>Null unless a restart was asked for and a daemon exists.</summary>
    public DaemonRestartPlan? Restart { get; }

    /// <summary>Text for -WhatIf: the diff and the restart, if any.</summary>
    public string Describe() =>
        (HasChanges || Domain?.Changed == true ? Diff : $"{_original.Path}: no change.\n") + (Restart is null ? "" : Restart.Description + "\n");

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
        {
            backup = AtomicFileReplacer.Replace(_original.Path, _updated.ToBytes(), _original.ToBytes(), DateTime.Now, cancellationToken);
        }

        var readBack = _options;
        if (Restart is not null && (HasChanges || Setting.RestartNeeded))
        {
            var newPid = Restart.Apply(_options.RestartTimeout, cancellationToken);
            if (_options.DaemonProcessId is not null)
            {
                readBack = _options with { DaemonProcessId = newPid };
            }
        }
        var after = CoreDumpConfigurator.Read(readBack);
        return Copy(after, Changes, Diff, backup);
    }

    internal static QemuCoreDumpSetting Copy(QemuCoreDumpSetting s, IReadOnlyList<string> changes, string diff, string? backup,
        IEnumerable<string>? moreWarnings = null) => new()
        {
            ConfigPath = s.ConfigPath,
            MaxCore = s.MaxCore,
            MaxCoreBytes = s.MaxCoreBytes,
            IncludeGuestMemory = s.IncludeGuestMemory,
            AutoDumpPath = s.AutoDumpPath,
            AutoDumpBypassCache = s.AutoDumpBypassCache,
            User = s.User,
            Group = s.Group,
            RestartNeeded = s.RestartNeeded,
            Daemon = s.Daemon,
            CorePattern = s.CorePattern,
            HandledBySystemdCoredump = s.HandledBySystemdCoredump,
            SystemdCoredumpLimits = s.SystemdCoredumpLimits,
            LargestGuestRamBytes = s.LargestGuestRamBytes,
            Warnings = [.. s.Warnings, .. moreWarnings ?? []],
            Changes = changes,
            Diff = diff,
            BackupPath = backup,
        };
}
