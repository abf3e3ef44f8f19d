using System.Management.Automation;
using VmDebug.Engine.Panic;

namespace VmDebug.Commands;

[Cmdlet(VerbsLifecycle.Wait, "GuestPanic")]
[OutputType(typeof(GuestPanicEvent))]
public sealed class WaitGuestPanicCommand : VmDebugCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string QmpSocket { get; set; } = "";

    /// <summary>Seconds; 0 waits until the guest panics or Ctrl+C.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int Timeout { get; set; }

    protected override void ProcessRecord()
    {
        var socket = GetUnresolvedProviderPathFromPSPath(QmpSocket);
        WriteVerbose($"Waiting for GUEST_PANICKED or GUEST_CRASHLOADED on {socket}");
        TimeSpan? timeout = Timeout > 0 ? TimeSpan.FromSeconds(Timeout) : null;
        if (TryRunEngine(ct => GuestPanicWatcher.WaitAsync(socket, timeout, ct), out var panic, socket))
        {
            WriteObject(panic);
        }
    }
}
