using System.Management.Automation;
using VmDebug.Engine;
using VmDebug.Engine.Libvirt;
using VmDebug.Engine.VirtioTrace;

namespace VmDebug.Commands;

/// <summary>
/// Sets up virtio-trace for a guest: the FIFO pairs in -Directory, and the agent-ctl-path and trace-path-cpuN pipe
/// channels in a libvirt domain or a domain XML file, or (-QemuArguments) the QEMU options for a guest started by hand.
/// </summary>
[Cmdlet(VerbsCommon.Add, "VirtioTraceChannel", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = XmlSet)]
[OutputType(typeof(VirtioTraceSetup))]
public sealed class AddVirtioTraceChannelCommand : PlannedChangeCmdlet<VirtioTraceSetupRequest, VirtioTraceSetup>
{
    private const string DomainSet = "Domain", XmlSet = "XmlPath", QemuSet = "QemuArguments";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = DomainSet, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(LibvirtDomainCompleter))]
    public string Domain { get; set; } = "";

    [Parameter(ParameterSetName = DomainSet)]
    [ValidateNotNullOrEmpty]
    public string ConnectionUri { get; set; } = LibvirtConnection.DefaultUri;

    [Parameter(Mandatory = true, ParameterSetName = XmlSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "Path")]
    [ValidateNotNullOrEmpty]
    public string XmlPath { get; set; } = "";

    /// <summary>Gives the QEMU options (the result's QemuArguments) instead of editing a domain.</summary>
    [Parameter(Mandatory = true, ParameterSetName = QemuSet)]
    public SwitchParameter QemuArguments { get; set; }

    [Parameter(Mandatory = true)]
    [ValidateRange(1, VirtioTraceChannelPlanner.MaxCpus)]
    public int CpuCount { get; set; }

    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string Directory { get; set; } = "";

    /// <summary>Adds the trace-metadata channel too, for the tracefs files trace-cmd restore needs.</summary>
    [Parameter]
    public SwitchParameter Metadata { get; set; }

    protected override VirtioTraceSetupRequest CreateRequest() => new()
    {
        Domain = ParameterSetName == DomainSet ? Domain : null,
        XmlPath = ParameterSetName == XmlSet ? GetUnresolvedProviderPathFromPSPath(XmlPath) : null,
        ConnectionUri = ConnectionUri,
        CpuCount = CpuCount,
        Directory = GetUnresolvedProviderPathFromPSPath(Directory),
        Metadata = Metadata.IsPresent,
    };

    protected override PlannedChange<VirtioTraceSetup> Plan(VirtioTraceSetupRequest request) => VirtioTraceSetupCommands.Plan(request);

    protected override object? ErrorTarget(VirtioTraceSetupRequest request) => request.Domain ?? request.XmlPath ?? request.Directory;
}
