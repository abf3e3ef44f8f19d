using System.Management.Automation;
using VmDebug.Engine.VirtioTrace;

namespace VmDebug.Commands;

/// <summary>
/// Starts the guest's trace-agent, drains every CPU's channel for -Duration seconds (or until Ctrl+C), stops it, and
/// writes one raw file per CPU that trace-cmd restore joins into a trace.dat.
/// </summary>
[Cmdlet(VerbsCommunications.Receive, "VirtioTrace")]
[OutputType(typeof(VirtioTraceCapture))]
public sealed class ReceiveVirtioTraceCommand : VmDebugCmdlet
{
    /// <summary>The FIFO directory of Add-VirtioTraceChannel (its output pipes in by property name).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Directory { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string OutputPath { get; set; } = "";

    /// <summary>Seconds to collect; without it, until Ctrl+C.</summary>
    [Parameter]
    [ValidateRange(0.1, 86400.0)]
    public double Duration { get; set; }

    protected override void ProcessRecord()
    {
        var request = new VirtioTraceReceiveRequest
        {
            Directory = GetUnresolvedProviderPathFromPSPath(Directory),
            OutputPath = GetUnresolvedProviderPathFromPSPath(OutputPath),
            Duration = MyInvocation.BoundParameters.ContainsKey(nameof(Duration)) ? TimeSpan.FromSeconds(Duration) : null,
        };
        var progress = CreateProgress();
        if (!TryRunEngine(ct => VirtioTraceReceiver.ReceiveAsync(request, progress, ct), out var capture, request.Directory))
        {
            return;
        }

        foreach (var warning in capture.Warnings)
        {
            WriteWarning(warning);
        }

        WriteObject(capture);
    }
}
