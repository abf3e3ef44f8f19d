using System.Management.Automation;
using VmDebug.Engine.CrashConfiguration;

namespace VmDebug.Commands;

[Cmdlet(VerbsCommon.Set, "GuestPanicDevice", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = GuestPanicParameterSets.Xml)]
[OutputType(typeof(GuestPanicConfiguration))]
public sealed class SetGuestPanicDeviceCommand : GuestPanicCommandBase
{
    // By property name too, so Get-GuestPanicDevice output (PanicModel, OnCrash, VmcoreInfo) pipes back in.
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("PanicModel")]
    public GuestPanicModel Model { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public CrashAction OnCrash { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public bool VmcoreInfo { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string AutoDumpPath { get; set; } = "";

    [Parameter]
    public SwitchParameter BypassCache { get; set; }

    protected override void ProcessRecord()
    {
        var request = CreateRequest() with
        {
            // A Set changes only what it was given.
            Model = MyInvocation.BoundParameters.ContainsKey(nameof(Model)) ? Model : null,
            OnCrash = MyInvocation.BoundParameters.ContainsKey(nameof(OnCrash)) ? OnCrash : null,
            VmcoreInfo = MyInvocation.BoundParameters.ContainsKey(nameof(VmcoreInfo)) ? VmcoreInfo : null,
            AutoDumpPath = MyInvocation.BoundParameters.ContainsKey(nameof(AutoDumpPath)) ? GetUnresolvedProviderPathFromPSPath(AutoDumpPath) : null,
            BypassCache = MyInvocation.BoundParameters.ContainsKey(nameof(BypassCache)) ? BypassCache.IsPresent : null,
        };
        ProcessPlannedChange(() => GuestPanicCommands.Plan(request), ErrorTarget(request), _ => ErrorTarget(request));
    }
}
