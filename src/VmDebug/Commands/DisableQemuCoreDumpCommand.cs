using System.Management.Automation;
using VmDebug.Engine;
using VmDebug.Engine.CrashConfiguration;

namespace VmDebug.Commands;

[Cmdlet(VerbsLifecycle.Disable, "QemuCoreDump", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = CoreDumpParameterSets.Host)]
[OutputType(typeof(QemuCoreDumpSetting))]
public sealed class DisableQemuCoreDumpCommand : CoreDumpChangeCommand
{
    protected override PlannedChange<QemuCoreDumpSetting> Plan(CoreDumpRequest request) => CoreDumpCommands.PlanDisable(request);
}
