using System.Collections;
using System.Management.Automation;
using System.Text.Json.Nodes;
using VmDebug.Engine.Json;
using VmDebug.Engine.Qmp;

namespace VmDebug.Commands;

[Cmdlet(VerbsLifecycle.Invoke, "QmpCommand", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(QmpResponse))]
public sealed class InvokeQmpCommandCommand : VmDebugCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string QmpSocket { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Command { get; set; } = "";

    [Parameter(Position = 2)]
    public Hashtable? Arguments { get; set; }

    [Parameter]
    [ValidateRange(1, 86400)]
    public int Timeout { get; set; } = (int)QmpRawCommand.DefaultTimeout.TotalSeconds;

    protected override void ProcessRecord()
    {
        var socket = GetUnresolvedProviderPathFromPSPath(QmpSocket);
        if (!ShouldProcess(socket, $"Execute QMP command '{Command}'"))
        {
            return;
        }

        var arguments = Arguments is null ? null : (JsonObject)PlainJson.FromPlain(Arguments, o => o is PSObject p ? p.BaseObject : o)!;
        if (TryRunEngine(ct => QmpRawCommand.InvokeAsync(socket, Command, arguments, TimeSpan.FromSeconds(Timeout), ct), out var response, socket))
        {
            WriteObject(response);
        }
    }
}
