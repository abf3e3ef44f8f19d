using System.Text;
using VmDebug;

namespace VmDebug.Engine.CrashConfiguration;

/// <summary>What Set-GuestPanicDevice would change; <see cref="Apply"/> does it.</summary>
public sealed class GuestPanicPlan
{
    private readonly GuestPanicOptions _options;

    internal GuestPanicPlan(GuestPanicOptions options, string originalXml, string updatedXml, CoreDumpPlan? hostPlan, GuestPanicConfiguration configuration)
    {
        _options = options;
        OriginalXml = originalXml;
        UpdatedXml = updatedXml;
        HostPlan = hostPlan;
        Configuration = configuration;
    }

    public string OriginalXml { get; }
    /// <summary>The XML to define (libvirt mode) or write (offline).</summary>
    public string UpdatedXml { get; }
    public bool DomainChanged => OriginalXml != UpdatedXml;
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
        if (_options.XmlPath is null && DomainChanged && defineDomainXml is null)
            throw new ArgumentNullException(nameof(defineDomainXml), "A libvirt domain needs the define callback to apply the new XML.");
        HostPlan?.Apply(cancellationToken);
        if (DomainChanged)
        {
            if (_options.XmlPath is { } path)
                AtomicFileReplacer.Replace(path, Encoding.UTF8.GetBytes(UpdatedXml), Encoding.UTF8.GetBytes(OriginalXml), DateTime.Now, cancellationToken);
            else
                defineDomainXml!(UpdatedXml);
        }
        return Configuration;
    }
}
