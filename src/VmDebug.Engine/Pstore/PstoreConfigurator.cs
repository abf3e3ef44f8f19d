using VmDebug.Engine.Configuration;
using VmDebug.Engine.GuestKernel;
using VmDebug.Engine.KernelLog;

namespace VmDebug.Engine.Pstore;

/// <summary>Set-GuestPstore's request: a libvirt domain or an XML file, the region's size and optionally its address.</summary>
public sealed record PstoreConfigurationRequest
{
    public string? Domain { get; init; }
    public string? ConnectionUri { get; init; }
    public string? XmlPath { get; init; }
    public required ulong Size { get; init; }
    public ulong? Address { get; init; }
    public ulong? RecordSize { get; init; }
    public int Ecc { get; init; }
}

/// <summary>A planned Set-GuestPstore holding its libvirt connection until applied.</summary>
public sealed class PstoreConfigurationChange : IDisposable
{
    private readonly LibvirtHost? _libvirt;

    internal PstoreConfigurationChange(PstoreConfigurationPlan plan, LibvirtHost? libvirt, string target)
    {
        Plan = plan;
        _libvirt = libvirt;
        Target = target;
    }

    public PstoreConfigurationPlan Plan { get; }
    public string Target { get; }
    public string Describe() => Plan.Describe(Target);
    public VmDebug.PstoreConfiguration Apply(CancellationToken cancellationToken) => Plan.Apply(_libvirt is null ? null : _libvirt.Define, cancellationToken);
    public void Dispose() => _libvirt?.Dispose();
}

/// <summary>
/// Engine entry of Set-GuestPstore: fetches the domain's persistent XML, and for a running domain its e820 map from
/// the guest's own log (read live through libvirt), then plans the edit. Nothing is written until Apply.
/// </summary>
public static class PstoreConfigurator
{
    public static async Task<PstoreConfigurationChange> PlanAsync(PstoreConfigurationRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var options = new PstoreConfigurationOptions
        {
            XmlPath = request.XmlPath, Size = request.Size, Address = request.Address, RecordSize = request.RecordSize, Ecc = request.Ecc,
        };
        if (request.XmlPath is not null || request.Domain is null)
        {
            return new PstoreConfigurationChange(PstoreDomainEditor.Plan(options), null, request.XmlPath ?? "");
        }
        var libvirt = LibvirtHost.Open(request.ConnectionUri);
        try
        {
            var (xml, running) = libvirt.PersistentDomain(request.Domain);
            var warnings = new List<string>();
            IReadOnlyList<E820Range>? e820 = null;
            if (running)
            {
                e820 = await RunningGuestE820Async(request, warnings, cancellationToken).ConfigureAwait(false);
            }
            var plan = PstoreDomainEditor.Plan(options with { DomainXml = xml, DomainIsRunning = running, E820 = e820, SourceWarnings = warnings });
            return new PstoreConfigurationChange(plan, libvirt, $"domain '{request.Domain}'");
        }
        catch
        {
            libvirt.Dispose();
            throw;
        }
    }

    private static async Task<IReadOnlyList<E820Range>?> RunningGuestE820Async(PstoreConfigurationRequest request, List<string> warnings, CancellationToken cancellationToken)
    {
        try
        {
            var log = await GuestKernelLogReader.ReadAsync(new GuestKernelTarget { Domain = request.Domain, ConnectionUri = request.ConnectionUri ?? "qemu:///system" },
                cancellationToken).ConfigureAwait(false);
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
