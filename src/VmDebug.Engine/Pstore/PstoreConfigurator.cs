using VmDebug.Engine.CrashConfiguration;
using VmDebug.Engine.GuestKernel;
using VmDebug.Engine.KernelLog;
using VmDebug.Engine.Libvirt;

namespace VmDebug.Engine.Pstore;

/// <summary>
/// Engine entry of Set-GuestPstore: fetches the domain's persistent XML, and for a running domain its e820 map from
/// the guest's own log (read live through libvirt), then plans the edit. Nothing is written until Apply.
/// </summary>
public static class PstoreConfigurator
{
    public static PstoreConfigurationChange Plan(PstoreConfigurationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        DomainSource.Check(request.Domain, request.XmlPath, required: true);
        if (request.XmlPath is not null)
        {
            return PstoreDomainEditor.Plan(request, null, request.XmlPath);
        }
        var libvirt = LibvirtHost.Open(request.ConnectionUri);
        try
        {
            var (xml, running) = libvirt.PersistentDomain(request.Domain!);
            var warnings = new List<string>();
            var e820 = running ? RunningGuestE820(request, warnings, cancellationToken) : null;
            return PstoreDomainEditor.Plan(request with { DomainXml = xml, DomainIsRunning = running, E820 = e820, SourceWarnings = warnings },
                libvirt, $"domain '{request.Domain}'");
        }
        catch
        {
            libvirt.Dispose();
            throw;
        }
    }

    private static IReadOnlyList<E820Range>? RunningGuestE820(PstoreConfigurationRequest request, List<string> warnings, CancellationToken cancellationToken)
    {
        try
        {
            // The planned-change front ends plan synchronously; the live read is short (the log's pages only).
            var log = GuestKernelLogReader.ReadAsync(new GuestKernelTarget { Domain = request.Domain, ConnectionUri = request.ConnectionUri ?? LibvirtConnection.DefaultUri },
                cancellationToken).GetAwaiter().GetResult();
            var e820 = GuestBootFacts.From(log).E820;
            if (e820.Count == 0)
            {
                warnings.Add("The running guest's log holds no BIOS-e820 records (rotated out?): the address is picked from the domain's memory size instead.");
            }
            return e820;
        }
        catch (VmDebugException e)
        {
            warnings.Add($"The running guest's e820 map could not be read ({e.Message}): the address is picked from the domain's memory size instead.");
            return null;
        }
    }
}
