using System.Text;
using VmDebug.Engine.HostConfig;

namespace VmDebug.Engine.Pstore;

/// <summary>
/// What Set-GuestPstore would change: the domain XML before and after, the diff for -WhatIf, and the configuration
/// the guest would have. <see cref="Apply"/> writes it: an XML file atomically with a backup, a libvirt domain through
/// the define callback the libvirt layer gives.
/// </summary>
public sealed class PstoreConfigurationPlan
{
    internal PstoreConfigurationPlan(string? xmlPath, string originalXml, string updatedXml, VmDebug.PstoreConfiguration configuration)
    {
        XmlPath = xmlPath;
        OriginalXml = originalXml;
        UpdatedXml = updatedXml;
        Configuration = configuration;
    }

    public string? XmlPath { get; }
    public string OriginalXml { get; }
    public string UpdatedXml { get; }
    public bool HasChanges => OriginalXml != UpdatedXml;
    public VmDebug.PstoreConfiguration Configuration { get; }

    /// <summary>The -WhatIf text: the diff, or that nothing changes and why.</summary>
    public string Describe(string target) => HasChanges
        ? Configuration.Diff
        : Configuration.DirectKernelBoot
            ? $"{target}: no change (its command line already has {Configuration.KernelParameters}).\n"
            : $"{target}: no change (it boots no kernel directly; add {Configuration.KernelParameters} inside the guest).\n";

    public VmDebug.PstoreConfiguration Apply(Action<string>? defineDomainXml, CancellationToken cancellationToken)
    {
        if (!HasChanges)
        {
            return Configuration;
        }
        if (XmlPath is { } path)
        {
            AtomicFileReplacer.Replace(path, Encoding.UTF8.GetBytes(UpdatedXml), Encoding.UTF8.GetBytes(OriginalXml), DateTime.Now, cancellationToken);
        }
        else
        {
            (defineDomainXml ?? throw new ArgumentNullException(nameof(defineDomainXml), "A libvirt domain needs the define callback."))(UpdatedXml);
        }
        return Configuration;
    }
}
