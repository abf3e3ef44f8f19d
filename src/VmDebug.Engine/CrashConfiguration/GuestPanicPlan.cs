namespace VmDebug.Engine.CrashConfiguration;

/// <summary>What Set-GuestPanicDevice would change; <see cref="Apply"/> does it.</summary>
internal sealed class GuestPanicPlan
{
    private readonly DomainXmlEdit _domain;

    internal GuestPanicPlan(DomainXmlEdit domain, CoreDumpPlan? hostPlan, GuestPanicConfiguration configuration)
    {
        _domain = domain;
        HostPlan = hostPlan;
        Configuration = configuration;
    }

    public string OriginalXml => _domain.OriginalXml;
    /// <summary>The XML to define (libvirt mode) or write (offline).</summary>
    public string UpdatedXml => _domain.UpdatedXml;
    public bool DomainChanged => _domain.Changed;
    /// <summary>qemu.conf changes for AutoDumpPath/BypassCache; null when none were asked for.</summary>
    public CoreDumpPlan? HostPlan { get; }
    public bool HasChanges => DomainChanged || HostPlan?.HasChanges == true;
    /// <summary>The configuration as it would be after Apply (warnings included).</summary>
    public GuestPanicConfiguration Configuration { get; }
    public string Diff => Configuration.Diff;

    /// <summary>
    /// Writes qemu.conf (if asked) and the domain: offline files are replaced atomically with a backup;
    /// in libvirt mode <paramref name="defineDomainXml"/> (the libvirt layer's define) receives the new XML.
    /// </summary>
    public GuestPanicConfiguration Apply(Action<string>? defineDomainXml, CancellationToken cancellationToken)
    {
        // Refused before qemu.conf is written, so nothing changes half-way.
        if (_domain.XmlPath is null && DomainChanged && defineDomainXml is null)
        {
            throw new ArgumentNullException(nameof(defineDomainXml), "A libvirt domain needs the define callback to apply the new XML.");
        }

        HostPlan?.Apply(cancellationToken);
        _domain.Apply(defineDomainXml, cancellationToken);
        return Configuration;
    }
}
