using System.Management.Automation;
using VmDebug.Engine.Libvirt;
using VmDebug.Engine.Nmi;

namespace VmDebug.Commands;

[Cmdlet(VerbsCommunications.Send, "GuestNmi", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High,
    DefaultParameterSetName = QmpSet)]
[OutputType(typeof(GuestNmi))]
public sealed class SendGuestNmiCommand : VmDebugCmdlet
{
    private const string QmpSet = "Qmp";
    private const string DomainSet = "Domain";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = QmpSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string QmpSocket { get; set; } = "";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = DomainSet, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(LibvirtDomainCompleter))]
    public string Domain { get; set; } = "";

    [Parameter(ParameterSetName = DomainSet)]
    [ValidateNotNullOrEmpty]
    public string ConnectionUri { get; set; } = LibvirtConnection.DefaultUri;

    protected override void ProcessRecord()
    {
        var viaQmp = ParameterSetName == QmpSet;
        var target = viaQmp ? GetUnresolvedProviderPathFromPSPath(QmpSocket) : Domain;
        if (!ShouldProcess(target, "Inject a non-maskable interrupt (a guest with kernel.unknown_nmi_panic=1 panics on it)"))
        {
            return;
        }

        if (TryRunEngine(ct => viaQmp ? GuestNmiSender.SendAsync(target, ct) : GuestNmiSender.SendAsync(ConnectionUri, Domain, ct),
                out var nmi, target))
        {
            foreach (var warning in nmi.Warnings)
            {
                WriteWarning(warning);
            }

            WriteObject(nmi);
        }
    }
}
