using System.Management.Automation;
using VmDebug.Engine.KernelLog;

namespace VmDebug.Commands;

/// <summary>
/// Summarises why a guest kernel died, from a dump, a QEMU process core or a live guest, without a vmlinux:
/// panic message, oops lines, crashing task, call trace, vCPU registers, symbols from the kernel's own kallsyms.
/// </summary>
[Cmdlet(VerbsCommon.Get, "GuestCrashInfo", DefaultParameterSetName = PathSet)]
[OutputType(typeof(GuestCrashInfo))]
public sealed class GetGuestCrashInfoCommand : GuestKernelCmdlet
{
    protected override void ProcessRecord()
    {
        var target = Target;
        if (TryRunEngine(ct => GuestCrashAnalyzer.ReadAsync(target, ct), out var crash, target.Path ?? target.CoreFile ?? target.QmpSocket ?? target.Domain))
        {
            foreach (var warning in crash.Warnings)
            {
                WriteWarning(warning);
            }
            WriteObject(crash);
        }
    }
}
