using System.Text;
using VmDebug.Engine.Configuration;
using VmDebug.Engine.DomainXml;
using VmDebug.Engine.HostConfig;

namespace VmDebug.Engine.VirtioTrace;

/// <summary>Parameters of Add-VirtioTraceChannel and `vmdebug trace setup`: at most one of Domain and XmlPath (neither: QEMU arguments).</summary>
public sealed record VirtioTraceSetupRequest
{
    public string? Domain { get; init; }
    public string? XmlPath { get; init; }
    public string? ConnectionUri { get; init; }
    public required int CpuCount { get; init; }
    /// <summary>Absolute path of the FIFO directory.</summary>
    public required string Directory { get; init; }
    /// <summary>Adds the trace-metadata channel, on which a guest script can send what trace-cmd needs.</summary>
    public bool Metadata { get; init; }
}

/// <summary>A planned Add-VirtioTraceChannel: <see cref="Describe"/> is the -WhatIf text, <see cref="Apply"/> does it.</summary>
public sealed class VirtioTraceSetupChange : IDisposable
{
    private readonly LibvirtHost? _libvirt;
    private readonly string? _xmlPath;
    private readonly string _originalXml;
    private readonly string _updatedXml;

    internal VirtioTraceSetupChange(VirtioTraceSetup preview, LibvirtHost? libvirt, string? xmlPath, string originalXml, string updatedXml, string target)
    {
        Preview = preview;
        _libvirt = libvirt;
        _xmlPath = xmlPath;
        _originalXml = originalXml;
        _updatedXml = updatedXml;
        Target = target;
    }

    /// <summary>The setup as it would be after Apply (FifosCreated lists the FIFOs Apply would make).</summary>
    public VirtioTraceSetup Preview { get; }
    public string Target { get; }
    public bool HasChanges => Preview.FifosCreated.Count > 0 || _originalXml != _updatedXml;

    public string Describe()
    {
        if (!HasChanges) return $"{Target}: no change.\n";
        var text = new StringBuilder();
        foreach (var fifo in Preview.FifosCreated) text.Append("Create FIFO ").Append(fifo).Append(" (0600)\n");
        return text.Append(Preview.Diff).ToString();
    }

    /// <summary>Makes the FIFOs, then writes the XML file (atomically, with a backup) or redefines the libvirt domain.</summary>
    public VirtioTraceSetup Apply(CancellationToken cancellationToken)
    {
        var created = VirtioTraceFifos.Create(Preview.Directory, Preview.Channels);
        cancellationToken.ThrowIfCancellationRequested();
        if (_originalXml != _updatedXml)
        {
            if (_xmlPath is not null)
                AtomicFileReplacer.Replace(_xmlPath, Encoding.UTF8.GetBytes(_updatedXml), Encoding.UTF8.GetBytes(_originalXml), DateTime.Now, cancellationToken);
            else
                _libvirt!.Define(_updatedXml);
        }
        return new VirtioTraceSetup
        {
            Domain = Preview.Domain, Path = Preview.Path, Directory = Preview.Directory, CpuCount = Preview.CpuCount, Channels = Preview.Channels,
            QemuArguments = Preview.QemuArguments, FifosCreated = created, Changes = Preview.Changes, Warnings = Preview.Warnings, Diff = Preview.Diff,
            TakesEffectAtNextBoot = Preview.TakesEffectAtNextBoot,
        };
    }

    public void Dispose() => _libvirt?.Dispose();
}

/// <summary>Engine entry point of Add-VirtioTraceChannel.</summary>
public static class VirtioTraceSetupCommands
{
    /// <summary>Plans the channels, FIFOs and XML edit without writing anything.</summary>
    public static VirtioTraceSetupChange Plan(VirtioTraceSetupRequest request)
    {
        if (request.Domain is not null && request.XmlPath is not null)
            throw new VmDebugException("DomainSourceAmbiguous", ErrorKind.InvalidArgument,
                "Give a libvirt domain or a domain XML file, not both.", request.Domain);
        if (request.Domain is null && request.XmlPath is null)
        {
            var channels = VirtioTraceChannelPlanner.Plan(request.CpuCount, request.Directory, request.Metadata);
            var preview = Preview(request, channels, "", [], null, false);
            return new VirtioTraceSetupChange(preview, null, null, "", "", request.Directory);
        }

        LibvirtHost? libvirt = null;
        try
        {
            string original;
            bool running = false;
            if (request.XmlPath is { } xmlPath)
            {
                if (!File.Exists(xmlPath))
                    throw new VmDebugException("DomainXmlNotFound", ErrorKind.ObjectNotFound, $"The domain XML file {xmlPath} does not exist.", xmlPath);
                original = File.ReadAllText(xmlPath);
            }
            else
            {
                libvirt = LibvirtHost.Open(request.ConnectionUri);
                (original, running) = libvirt.PersistentDomain(request.Domain!);
            }
            var doc = DomainXmlDocument.Parse(original, request.XmlPath);
            var used = VirtioTraceDomainEditor.UsedPorts(doc);
            var channels = VirtioTraceChannelPlanner.Plan(request.CpuCount, request.Directory, request.Metadata,
                Enumerable.Range(1, 511).Where(p => !used.Contains(p)));
            var changes = VirtioTraceDomainEditor.Apply(doc, channels);
            var updated = changes.Count > 0 ? doc.ToString() : original;
            var label = request.XmlPath ?? $"domain {doc.Root.Element("name")?.Value}";
            var diff = UnifiedDiff.Create(original, updated, label, label);
            var warnings = new List<string>();
            bool nextBoot = running && updated != original;
            if (nextBoot) warnings.Add("The domain is running: its persistent definition changed, and the channels appear at its next boot.");
            var preview = Preview(request, channels, diff, changes, warnings, nextBoot);
            return new VirtioTraceSetupChange(preview, libvirt, request.XmlPath, original, updated, request.XmlPath ?? $"domain '{request.Domain}'");
        }
        catch
        {
            libvirt?.Dispose();
            throw;
        }
    }

    private static VirtioTraceSetup Preview(VirtioTraceSetupRequest request, IReadOnlyList<VirtioTraceChannel> channels, string diff,
        IReadOnlyList<string> changes, List<string>? warnings, bool nextBoot) => new()
    {
        Domain = request.Domain,
        Path = request.XmlPath,
        Directory = request.Directory,
        CpuCount = request.CpuCount,
        Channels = channels,
        QemuArguments = VirtioTraceChannelPlanner.QemuArguments(channels),
        FifosCreated = VirtioTraceFifos.Missing(request.Directory, channels),
        Changes = changes,
        Warnings = warnings ?? [],
        Diff = diff,
        TakesEffectAtNextBoot = nextBoot,
    };
}
