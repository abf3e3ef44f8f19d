using VmDebug.Engine.CrashConfiguration;
using VmDebug.Engine.Libvirt;

namespace VmDebug.Engine.VirtioTrace;

/// <summary>Engine entry point of Add-VirtioTraceChannel and `vmdebug trace setup`.</summary>
public static class VirtioTraceSetupCommands
{
    /// <summary>Plans the channels, FIFOs and XML edit without writing anything.</summary>
    public static VirtioTraceSetupChange Plan(VirtioTraceSetupRequest request)
    {
        DomainSource.Check(request.Domain, request.XmlPath, required: false);
        if (request.Domain is null && request.XmlPath is null)
        {
            var channels = VirtioTraceChannelPlanner.Plan(request.CpuCount, request.Directory, request.Metadata);
            return new VirtioTraceSetupChange(Preview(request, channels, null), null, null, request.Directory);
        }

        LibvirtHost? libvirt = null;
        try
        {
            DomainXmlEdit edit;
            if (request.XmlPath is not null)
            {
                edit = DomainXmlEdit.Load(null, request.XmlPath, domainIsRunning: false);
            }
            else
            {
                libvirt = LibvirtHost.Open(request.ConnectionUri);
                var (xml, running) = libvirt.PersistentDomain(request.Domain!);
                edit = DomainXmlEdit.Load(xml, null, running);
            }
            var used = VirtioTraceDomainEditor.UsedPorts(edit.Document);
            // virtio-serial ports run to 511 (QEMU's limit on max_ports is 512 including port 0).
            var channels = VirtioTraceChannelPlanner.Plan(request.CpuCount, request.Directory, request.Metadata,
                Enumerable.Range(1, 511).Where(p => !used.Contains(p)));
            foreach (var change in VirtioTraceDomainEditor.Apply(edit.Document, channels))
            {
                edit.Record(true, change);
            }

            return new VirtioTraceSetupChange(Preview(request, channels, edit), edit, libvirt, request.XmlPath ?? $"domain '{request.Domain}'");
        }
        catch
        {
            libvirt?.Dispose();
            throw;
        }
    }

    private static VirtioTraceSetup Preview(VirtioTraceSetupRequest request, IReadOnlyList<VirtioTraceChannel> channels, DomainXmlEdit? edit) => new()
    {
        Domain = request.Domain,
        Path = request.XmlPath,
        Directory = request.Directory,
        CpuCount = request.CpuCount,
        Channels = channels,
        QemuArguments = VirtioTraceChannelPlanner.QemuArguments(channels),
        FifosCreated = VirtioTraceFifos.Missing(request.Directory, channels),
        Changes = edit?.Changes.ToList() ?? [],
        Warnings = edit?.TakesEffectAtNextBoot == true
            ? ["The domain is running: its persistent definition changed, and the channels appear at its next boot."] : [],
        Diff = edit?.Diff ?? "",
        TakesEffectAtNextBoot = edit?.TakesEffectAtNextBoot == true,
    };
}
