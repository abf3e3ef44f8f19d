using VmDebug.Engine.CrashConfiguration;
using VmDebug.Engine.Libvirt;

namespace VmDebug.Engine.Pstore;

/// <summary>A planned Set-GuestPstore: the &lt;cmdline&gt; edit of one domain definition, holding its libvirt connection until applied.</summary>
public sealed class PstoreConfigurationChange : PlannedChange<VmDebug.PstoreConfiguration>
{
    private readonly DomainXmlEdit _edit;
    private readonly LibvirtHost? _libvirt;

    internal PstoreConfigurationChange(DomainXmlEdit edit, VmDebug.PstoreConfiguration configuration, LibvirtHost? libvirt, string target)
    {
        _edit = edit;
        _libvirt = libvirt;
        Preview = configuration;
        Target = target;
    }

    public override string Target { get; }
    public override string Description => "Change the kernel command line";
    public override IReadOnlyList<string> Changes => _edit.Changes;
    public override bool HasChanges => _edit.Changed;

    /// <summary>The configuration as it would be after Apply.</summary>
    public override VmDebug.PstoreConfiguration Preview { get; }

    public override string Describe() => HasChanges
        ? _edit.Diff
        : Preview.DirectKernelBoot
            ? $"{Target}: no change (its command line already has {Preview.KernelParameters}).\n"
            : $"{Target}: no change (it boots no kernel directly; add {Preview.KernelParameters} inside the guest).\n";

    /// <summary>Writes the XML file (atomically, with a backup) or defines the libvirt domain's new persistent XML.</summary>
    public override VmDebug.PstoreConfiguration Apply(CancellationToken cancellationToken)
    {
        _edit.Apply(_libvirt is null ? null : _libvirt.Define, cancellationToken);
        return Preview;
    }

    public override IReadOnlyList<string> WarningsOf(VmDebug.PstoreConfiguration result) => result.Warnings;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _libvirt?.Dispose();
        }
    }
}
