using VmDebug.Engine.Libvirt;

namespace VmDebug.Engine.CrashConfiguration;

/// <summary>
/// A planned Enable/Disable-QemuCoreDump: <see cref="Describe"/> is the -WhatIf text, <see cref="Apply"/> does it.
/// Holds the libvirt connection (when one was needed) until disposed.
/// </summary>
public sealed class CoreDumpChange : IDisposable
{
    private readonly LibvirtHost? _libvirt;
    private readonly IReadOnlyList<string> _notes;

    internal CoreDumpChange(CoreDumpPlan plan, LibvirtHost? libvirt, string target, IReadOnlyList<string> notes)
    {
        Plan = plan;
        _libvirt = libvirt;
        Target = target;
        _notes = notes;
        Preview = CoreDumpPlan.Copy(plan.Setting, plan.Changes, plan.Diff, null, notes);
    }

    public CoreDumpPlan Plan { get; }
    /// <summary>What ShouldProcess names: the config file, and the domain or XML file when one is edited.</summary>
    public string Target { get; }
    /// <summary>The settings as they would be after Apply (what --what-if --json prints).</summary>
    public QemuCoreDumpSetting Preview { get; }
    /// <summary>The config, the domain or the daemon would change.</summary>
    public bool HasChanges => Plan.HasChanges || Plan.Domain?.DomainChanged == true || Plan.Restart is not null;

    /// <summary>The exact diff and the restart, if any: the -WhatIf text.</summary>
    public string Describe() => Plan.Describe();

    /// <summary>Writes, defines and restarts as planned; a refused restart throws before anything is written.</summary>
    public QemuCoreDumpSetting Apply(CancellationToken cancellationToken)
    {
        var applied = Plan.Apply(cancellationToken, _libvirt is null ? null : _libvirt.Define);
        var notes = _notes.ToList();
        if (Plan.Restart is { Forced: true, BlockingJobs.Count: > 0 } restart)
            notes.Add($"{restart.Daemon.Name} was restarted despite active jobs ({string.Join(", ", restart.BlockingJobs.Select(j => $"{j.Operation} on domain '{j.Domain}'"))}); they may have been aborted.");
        return CoreDumpPlan.Copy(applied, applied.Changes, applied.Diff, applied.BackupPath, notes);
    }

    public void Dispose() => _libvirt?.Dispose();
}
