using System.Management.Automation;
using VmDebug.Engine;
using VmDebug.Engine.Libvirt;
using VmDebug.Engine.Pstore;

namespace VmDebug.Commands;

/// <summary>
/// Configures pstore/ramoops for a libvirt domain that boots its kernel directly: adds memmap=SIZE$ADDR and the
/// ramoops.* parameters to its &lt;os&gt;&lt;cmdline&gt; (-WhatIf shows the diff), with the region placed in RAM the
/// guest's e820 map leaves usable. For other domains it returns the parameters to add inside the guest. Warns when a
/// panic device or on_reboot would keep pstore from writing or keeping the record.
/// </summary>
[Cmdlet(VerbsCommon.Set, "GuestPstore", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = XmlSet)]
[OutputType(typeof(PstoreConfiguration))]
public sealed class SetGuestPstoreCommand : PlannedChangeCmdlet<PstoreConfigurationRequest, PstoreConfiguration>
{
    private const string DomainSet = "Domain";
    private const string XmlSet = "XmlPath";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = DomainSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(LibvirtDomainCompleter))]
    public string Domain { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = XmlSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "Path")]
    [ValidateNotNullOrEmpty]
    public string XmlPath { get; set; } = "";

    [Parameter(ParameterSetName = DomainSet)]
    [ValidateNotNullOrEmpty]
    public string ConnectionUri { get; set; } = LibvirtConnection.DefaultUri;

    /// <summary>Bytes of the region (ramoops.mem_size); whole 4 KiB pages.</summary>
    [Parameter]
    [ValidateRange(16384UL, PstoreLayout.MaxMemSize)]
    public ulong Size { get; set; } = 1 << 20;

    /// <summary>Guest-physical start of the region; without it one is picked from the guest's usable RAM.</summary>
    [Parameter]
    public ulong? Address { get; set; }

    /// <summary>ramoops.record_size; without it an eighth of the region.</summary>
    [Parameter]
    [ValidateRange(4096UL, PstoreLayout.MaxMemSize)]
    public ulong? RecordSize { get; set; }

    /// <summary>ramoops.ecc: Reed-Solomon parity bytes per 128-byte block (1 means 16); 0 for none.</summary>
    [Parameter]
    [ValidateRange(0, 255)]
    public int Ecc { get; set; }

    protected override PstoreConfigurationRequest CreateRequest() => new()
    {
        Domain = ParameterSetName == DomainSet ? Domain : null,
        ConnectionUri = ConnectionUri,
        XmlPath = ParameterSetName == XmlSet ? GetUnresolvedProviderPathFromPSPath(XmlPath) : null,
        Size = Size,
        Address = Address,
        RecordSize = RecordSize,
        Ecc = Ecc,
    };

    protected override PlannedChange<PstoreConfiguration> Plan(PstoreConfigurationRequest request) => PstoreConfigurator.Plan(request, StopToken);

    protected override object? ErrorTarget(PstoreConfigurationRequest request) => request.Domain ?? request.XmlPath;
}
