using System.Management.Automation;
using VmDebug.Engine.Pstore;

namespace VmDebug.Commands;

/// <summary>
/// Reads the guest's pstore/ramoops records straight from its physical memory, without rebooting it: live over QMP
/// or libvirt, or from a dump. The layout comes from the parameters given, else from the guest's kernel command line
/// as its log records it. Says which case it is when there is no record: an error for no region and for a guest
/// paused by pvpanic before pstore wrote, a warning for a region with no record yet.
/// </summary>
[Cmdlet(VerbsCommon.Get, "GuestPstore", DefaultParameterSetName = PathSet)]
[OutputType(typeof(PstoreRecord))]
public sealed class GetGuestPstoreCommand : GuestKernelCmdlet
{
    /// <summary>ramoops.mem_address: guest-physical start of the region.</summary>
    [Parameter]
    public ulong? MemAddress { get; set; }

    /// <summary>ramoops.mem_size: bytes of the region.</summary>
    [Parameter]
    [ValidateRange(1UL, PstoreLayout.MaxMemSize)]
    public ulong? MemSize { get; set; }

    /// <summary>ramoops.record_size: bytes of each dmesg zone (default 4096).</summary>
    [Parameter]
    public ulong? RecordSize { get; set; }

    /// <summary>ramoops.console_size (default 4096).</summary>
    [Parameter]
    public ulong? ConsoleSize { get; set; }

    /// <summary>ramoops.ftrace_size (default 4096), split over the guest's CPUs.</summary>
    [Parameter]
    public ulong? FtraceSize { get; set; }

    /// <summary>ramoops.pmsg_size (default 4096).</summary>
    [Parameter]
    public ulong? PmsgSize { get; set; }

    /// <summary>ramoops.ecc: Reed-Solomon parity bytes per 128-byte block (1 means 16); 0 for none.</summary>
    [Parameter]
    [ValidateRange(0, 255)]
    public int? Ecc { get; set; }

    protected override void ProcessRecord()
    {
        var target = Target;
        var request = new PstoreRequest
        {
            Target = target,
            MemAddress = MemAddress,
            MemSize = MemSize,
            RecordSize = RecordSize,
            ConsoleSize = ConsoleSize,
            FtraceSize = FtraceSize,
            PmsgSize = PmsgSize,
            Ecc = Ecc,
        };
        if (!TryRunEngine(ct => PstoreReader.ReadAsync(request, ct), out var result, target.Path ?? target.CoreFile ?? target.QmpSocket ?? target.Domain))
        {
            return;
        }
        WriteVerbose($"ramoops layout ({result.LayoutFrom}): {result.Layout}");
        foreach (var warning in result.Warnings)
        {
            WriteWarning(warning);
        }
        foreach (var record in result.Records)
        {
            WriteObject(record);
        }
    }
}
