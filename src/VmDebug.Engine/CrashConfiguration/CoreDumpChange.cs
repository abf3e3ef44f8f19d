using VmDebug.Engine.Libvirt;

namespace VmDebug.Engine.CrashConfiguration;

/// <summary>
/// A planned Enable/Disable-QemuCoreDump: qemu.conf, the domain's dumpCore and the daemon restart.
/// Holds the libvirt connection (when one was needed) until disposed.
/// </summary>
public sealed class CoreDumpChange : PlannedChange<QemuCoreDumpSetting>
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

    internal CoreDumpPlan Plan { get; }
    /// <summary>The config file, and the domain or XML file when one is edited.</summary>
    public override string Target { get; }
    public override string Description => "Change the QEMU core-dump configuration";
    public override IReadOnlyList<string> Changes => Plan.Changes;
    public override QemuCoreDumpSetting Preview { get; }
    /// <summary>The config, the domain or the daemon would change.</summary>
    public override bool HasChanges => Plan.HasChanges || Plan.Domain?.Changed == true || Plan.Restart is not null;

    /// <summary>The exact diff and the restart, if any.</summary>
    public override string Describe() => Plan.Describe();

    /// <summary>Writes, defines and restarts as planned; a refused restart throws before anything is written.</summary>
    public override QemuCoreDumpSetting Apply(CancellationToken cancellationToken)
    {
        var applied = Plan.Apply(cancellationToken, _libvirt is null ? null : _libvirt.Define);
        var notes = _notes.ToList();
        if (Plan.Restart is { Forced: true, BlockingJobs.Count: > 0 } restart)
        {
            notes.Add($"{restart.Daemon.Name} was restarted despite active jobs ({string.Join(", ", restart.BlockingJobs.Select(j => $"{j.Operation} on domain '{j.Domain}'"))}); they may have been aborted.");
        }

        return CoreDumpPlan.Copy(applied, applied.Changes, applied.Diff, applied.BackupPath, notes);
    }

    public override IReadOnlyList<string> WarningsOf(QemuCoreDumpSetting result) => result.Warnings;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _libvirt?.Dispose();
        }
    }
}
