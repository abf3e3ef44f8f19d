using System.Management.Automation;
using VmDebug.Engine;
using VmDebug.Engine.CrashConfiguration;

namespace VmDebug.Commands;

[Cmdlet(VerbsLifecycle.Enable, "QemuCoreDump", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = CoreDumpParameterSets.Host)]
[OutputType(typeof(QemuCoreDumpSetting))]
public sealed class EnableQemuCoreDumpCommand : CoreDumpChangeCommand
{
    /// <summary>"unlimited" or a size with units (4GiB, 512M) or a byte count.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string MaxCoreSize { get; set; } = "unlimited";

    [Parameter]
    public SwitchParameter IncludeGuestMemory { get; set; }

    protected override CoreDumpRequest CreateRequest() => base.CreateRequest() with
    {
        MaxCore = MaxCoreSize,
        IncludeGuestMemory = IncludeGuestMemory.IsPresent ? true : null,
    };

    protected override PlannedChange<QemuCoreDumpSetting> Plan(CoreDumpRequest request) => CoreDumpCommands.PlanEnable(request);
}
