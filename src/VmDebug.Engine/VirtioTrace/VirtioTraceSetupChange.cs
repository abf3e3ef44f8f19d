using System.Text;
using VmDebug.Engine.CrashConfiguration;
using VmDebug.Engine.Libvirt;

namespace VmDebug.Engine.VirtioTrace;

/// <summary>A planned Add-VirtioTraceChannel: the FIFOs to create and, for a domain, its XML edit.</summary>
public sealed class VirtioTraceSetupChange : PlannedChange<VirtioTraceSetup>
{
    private readonly LibvirtHost? _libvirt;
    private readonly DomainXmlEdit? _edit;

    internal VirtioTraceSetupChange(VirtioTraceSetup preview, DomainXmlEdit? edit, LibvirtHost? libvirt, string target)
    {
        Preview = preview;
        _edit = edit;
        _libvirt = libvirt;
        Target = target;
    }

    public override string Target { get; }
    public override string Description => "Set up virtio-trace";
    public override IReadOnlyList<string> Changes =>
        [.. Preview.FifosCreated.Select(f => $"Create FIFO {f} (0600)"), .. Preview.Changes];
    /// <summary>The setup as it would be after Apply (FifosCreated lists the FIFOs Apply would make).</summary>
    public override VirtioTraceSetup Preview { get; }
    public override bool HasChanges => Preview.FifosCreated.Count > 0 || _edit?.Changed == true;

    public override string Describe()
    {
        if (!HasChanges)
        {
            return $"{Target}: no change.\n";
        }

        var text = new StringBuilder();
        foreach (var fifo in Preview.FifosCreated)
        {
            text.Append("Create FIFO ").Append(fifo).Append(" (0600)\n");
        }

        return text.Append(Preview.Diff).ToString();
    }

    /// <summary>Makes the FIFOs, then writes the XML file (atomically, with a backup) or redefines the libvirt domain.</summary>
    public override VirtioTraceSetup Apply(CancellationToken cancellationToken)
    {
        var created = VirtioTraceFifos.Create(Preview.Directory, Preview.Channels);
        cancellationToken.ThrowIfCancellationRequested();
        _edit?.Apply(_libvirt is null ? null : _libvirt.Define, cancellationToken);
        return new VirtioTraceSetup
        {
            Domain = Preview.Domain,
            Path = Preview.Path,
            Directory = Preview.Directory,
            CpuCount = Preview.CpuCount,
            Channels = Preview.Channels,
            QemuArguments = Preview.QemuArguments,
            FifosCreated = created,
            Changes = Preview.Changes,
            Warnings = Preview.Warnings,
            Diff = Preview.Diff,
            TakesEffectAtNextBoot = Preview.TakesEffectAtNextBoot,
        };
    }

    public override IReadOnlyList<string> WarningsOf(VirtioTraceSetup result) => result.Warnings;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _libvirt?.Dispose();
        }
    }
}
