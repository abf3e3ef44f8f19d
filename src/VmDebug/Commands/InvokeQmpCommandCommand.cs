using System.Management.Automation;
using VmDebug.Engine.Qmp;

namespace VmDebug.Commands;

// ConfirmImpact High: quit, stop, system_reset and every other command that may change the guest ask first.
// Commands known to only read (query-*, qom-get…) run without asking, unless -WhatIf or -Confirm is given.
[Cmdlet(VerbsLifecycle.Invoke, "QmpCommand", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(QmpResponse))]
public sealed class InvokeQmpCommandCommand : VmDebugCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string QmpSocket { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(QmpCommandNameCompleter))]
    public string Command { get; set; } = "";

    /// <summary>A hashtable, a PSCustomObject (ConvertFrom-Json output included) or JSON text.</summary>
    [Parameter(Position = 2)]
    public object? Arguments { get; set; }

    [Parameter]
    [ValidateRange(1, 86400)]
    public int Timeout { get; set; } = (int)QmpRawCommand.DefaultTimeout.TotalSeconds;

    protected override void ProcessRecord()
    {
        var socket = GetUnresolvedProviderPathFromPSPath(QmpSocket);
        var confirmationWanted = !QmpCommandSafety.IsReadOnly(Command)
            || MyInvocation.BoundParameters.ContainsKey("WhatIf") || MyInvocation.BoundParameters.ContainsKey("Confirm")
            || SessionState.PSVariable.GetValue("WhatIfPreference") is true or SwitchParameter { IsPresent: true };
        if (confirmationWanted && !ShouldProcess(socket, $"Execute QMP command '{Command}'"))
        {
            return;
        }

        // Note properties only are read off the pipeline thread: PSCustomObjects from scripts and ConvertFrom-Json.
        var arguments = Arguments;
        if (TryRunEngine(ct => QmpRawCommand.InvokeAsync(socket, Command, QmpRawCommand.ToArguments(arguments, PowerShellValues.Unwrap),
                TimeSpan.FromSeconds(Timeout), ct, PowerShellValues.ToPSCustomObject), out var response, socket))
        {
            WriteObject(response);
        }
    }
}
