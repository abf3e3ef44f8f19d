using VmDebug.Engine.Libvirt;

namespace VmDebug.Engine.CrashConfiguration;

/// <summary>A planned Set-GuestPanicDevice: the domain XML edit and, when asked, qemu.conf's auto-dump settings.</summary>
public sealed class GuestPanicChange : PlannedChange<GuestPanicConfiguration>
{
    private readonly GuestPanicPlan _plan;
    private readonly LibvirtHost? _libvirt;

    internal GuestPanicChange(GuestPanicPlan plan, LibvirtHost? libvirt, string target)
    {
        _plan = plan;
        _libvirt = libvirt;
        Target = target;
    }

    public override string Target { get; }
    public override string Description => "Change the panic configuration";
    public override IReadOnlyList<string> Changes => Preview.Changes;
    /// <summary>The configuration as it would be after Apply.</summary>
    public override GuestPanicConfiguration Preview => _plan.Configuration;
    public override bool HasChanges => _plan.HasChanges;

    public override string Describe() => _plan.HasChanges ? _plan.Diff : $"{Target}: no change.\n";

    /// <summary>Writes qemu.conf (if asked), then the XML file or the libvirt domain's persistent definition.</summary>
    public override GuestPanicConfiguration Apply(CancellationToken cancellationToken) =>
        _plan.Apply(_libvirt is null ? null : _libvirt.Define, cancellationToken);

    public override IReadOnlyList<string> WarningsOf(GuestPanicConfiguration result) => result.Warnings;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _libvirt?.Dispose();
        }
    }
}
