#Requires -Version 7.4
# One fault, two front ends: the engine's remedy is data, so the cmdlet names -GuestMemoryLayout and never the CLI's
# --guest-memory-layout (tests/VmDebug.Tests/FrontEnds/Cli/RemedySpellingTests.cs proves the converse for vmdebug).
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:noQemu = Get-MissingToolReason 'qemu-system-x86_64'
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-VmDebugModule
    $script:work = New-TestDirectory
    # isapc: a real machine type with no layout rule; its firmware runs until SIGABRT leaves a 64 MiB core.
    function New-IsapcCore([string] $Directory) {
        $start = [System.Diagnostics.ProcessStartInfo]::new('/bin/sh')
        $start.ArgumentList.Add('-c')
        $start.ArgumentList.Add('ulimit -c unlimited; exec "$@" >/dev/null 2>&1 </dev/null')
        $start.ArgumentList.Add('qemu')
        foreach ($a in @((Find-TestTool 'qemu-system-x86_64'), '-machine', 'isapc,accel=tcg,dump-guest-core=on', '-m', '64',
                '-nodefaults', '-display', 'none')) {
            $start.ArgumentList.Add($a)
        }
        $start.UseShellExecute = $false
        $start.WorkingDirectory = $Directory
        $process = [System.Diagnostics.Process]::Start($start)
        try {
            Start-Sleep -Seconds 1
            & /bin/kill -ABRT $process.Id
            if (-not $process.WaitForExit(60000)) { throw 'QEMU did not exit after SIGABRT' }
        }
        finally {
            if (-not $process.HasExited) { $process.Kill() }
        }
        $core = @("$Directory/core", "$Directory/core.$($process.Id)") | Where-Object { Test-Path -LiteralPath $_ } | Select-Object -First 1
        if (-not $core) { throw "QEMU left no core in $Directory (core_pattern: $(Get-Content /proc/sys/kernel/core_pattern))" }
        $core
    }
}

AfterAll { Remove-TestArtifacts }

Describe 'Invoke-GuestMemoryDump -CoreFile without a layout' -Skip:([bool] $noQemu) {
    It 'names the remedy as -GuestMemoryLayout, in the message shown and as RecommendedAction' {
        $core = New-IsapcCore $work
        $destination = Join-Path $work 'vmcore'
        $errors = @()
        Invoke-GuestMemoryDump -CoreFile $core -Path $destination -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'ProcessCoreMachineUnknown,*'
        $errors[0].ErrorDetails.RecommendedAction | Should -BeLike 'Give -GuestMemoryLayout *'
        $errors[0].ErrorDetails.Message | Should -Match ([regex]::Escape('Give -GuestMemoryLayout '))
        $errors[0].ErrorDetails.Message | Should -Not -Match 'guest-memory-layout'
        $errors[0].Exception.Message | Should -Not -Match 'GuestMemoryLayout'
        Test-Path -LiteralPath $destination | Should -BeFalse
    }
}
