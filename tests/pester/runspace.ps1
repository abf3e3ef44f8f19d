# A [powershell] with its own runspace and the module imported: for Stop() (what Ctrl+C does) and for commands that
# would prompt, which fail there instead of waiting for an answer. Dot-source after common.ps1.

function New-TestPowerShell {
    $ps = [powershell]::Create()
    $ps.Runspace = [runspacefactory]::CreateRunspace()
    $ps.Runspace.Open()
    $null = $ps.AddCommand('Import-Module').AddParameter('Name', (Get-VmDebugModulePath)).Invoke()
    $ps.Commands.Clear()
    $ps
}

function Remove-TestPowerShell($PowerShell) {
    if ($PowerShell) {
        $PowerShell.Runspace.Dispose()
        $PowerShell.Dispose()
    }
}

<#
Starts $PowerShell, waits until -Until (a scriptblock given the PowerShell) is true or at most -After, then calls
Stop() as Ctrl+C does. Returns how long Stop() took to end the invocation.
#>
function Stop-TestPowerShell($PowerShell, [scriptblock] $Until = { $false }, [timespan] $After = [timespan]::FromSeconds(1)) {
    $running = $PowerShell.BeginInvoke()
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    while (-not $running.IsCompleted -and $clock.Elapsed -lt $After -and -not (& $Until $PowerShell)) {
        Start-Sleep -Milliseconds 50
    }
    $running.IsCompleted | Should -BeFalse -Because 'the command must still be running when Stop() is called'
    $stopping = [System.Diagnostics.Stopwatch]::StartNew()
    $PowerShell.Stop()
    try { $null = $PowerShell.EndInvoke($running) } catch [System.Management.Automation.PipelineStoppedException] { }
    $stopping.Elapsed
}
