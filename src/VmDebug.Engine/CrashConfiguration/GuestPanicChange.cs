using VmDebug.Engine.Libvirt;

namespace VmDebug.Engine.CrashConfiguration;

/// <summary>A planned Set-GuestPanicDevice: <see cref="Describe"/> is the -WhatIf text, <see cref="Apply"/> does it.</summary>
public sealed class GuestPanicChange : IDisposable
{
    private readonly LibvirtHost? _libvirt;

    internal GuestPanicChange(GuestPanicPlan plan, LibvirtHost? libvirt, string target)
    {
        Plan = plan;
        _libvirt = libvirt;
        Target = target;
    }

    public GuestPanicPlan Plan { get; }
    public string Target { get; }
    /// <summary>The configuration as it would be after Apply.</summary>
    public GuestPanicConfiguration Preview => Plan.Configuration;
    public bool HasChanges => Plan.HasChanges;

    public string Describe() => Plan.HasChanges ? Plan.Diff : $"{Target}: no change.\n";

    /// <summary>Writes qemu.conf (if asked), then the XML file or the libvirt domain's persistent definition.</summary>
    public GuestPanicConfiguration Apply(CancellationToken cancellationToken) =>
        Plan.Apply(_libvirt is null ? null : _libvirt.Define, cancellationToken);

    public void Dispose() => _libvirt?.Dispose();
}
