using System.Management.Automation;
using VmDebug.Engine.KernelLog;

namespace VmDebug.Commands;

/// <summary>
/// Reads the guest kernel's log from its printk ring, panic included, without a vmlinux: from a dump, a QEMU process
/// core or a live guest. Writes the same KmsgRecord objects Get-VsockKmsgStream does, Guest naming the source, so
/// <c>$streamed + (Get-GuestKernelLog -Path $dump) | Sort-Object Sequence -Unique</c> is the whole timeline.
/// </summary>
[Cmdlet(VerbsCommon.Get, "GuestKernelLog", DefaultParameterSetName = PathSet)]
[OutputType(typeof(KmsgRecord))]
public sealed class GetGuestKernelLogCommand : GuestKernelCmdlet
{
    /// <summary>Only the last N records.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int Tail { get; set; } = -1;

    /// <summary>Only records at this level or more severe.</summary>
    [Parameter]
    public KmsgLevel MinimumLevel { get; set; } = KmsgLevel.Debug;

    protected override void ProcessRecord()
    {
        var target = Target;
        if (!TryRunEngine(ct => GuestKernelLogReader.ReadAsync(target, ct), out var log, target.Path ?? target.CoreFile ?? target.QmpSocket ?? target.Domain))
        {
            return;
        }
        foreach (var warning in log.Warnings)
        {
            WriteWarning(warning);
        }
        foreach (var record in log.ToKmsgRecords(Tail >= 0 ? Tail : null, MinimumLevel))
        {
            WriteObject(record);
        }
    }
}
