#Requires -Version 7.4
# Get-GuestCrashInfo against a real guest that panicked through sysrq c, read from its dump.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $skip = Get-MissingToolReason 'qemu-system-x86_64'
}
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-VmDebugModule
    $dir = New-TestDirectory
}
AfterAll { Remove-TestArtifacts }

Describe 'Get-GuestCrashInfo' -Skip:([bool]$skip) {
    BeforeAll {
        $guest = Start-TestGuest -PanicAfter 0 -Markers 2
        Wait-TestGuestStatus $guest 'guest-panicked'
        $dump = Invoke-GuestMemoryDump -QmpSocket $guest.QmpSocket -Path (Join-Path $dir 'guest.kdump') -Format KdumpZlib
        Stop-TestGuest $guest
    }

    It 'says why the guest died, matching its own log lines' {
        $crash = $dump | Get-GuestCrashInfo
        $crash | Should -BeOfType ([VmDebug.GuestCrashInfo])
        $crash.PanicMessage | Should -Be 'sysrq triggered crash'
        $log = @(Get-GuestKernelLog -Path $dump.Path).Message
        $log | Should -Contain "Kernel panic - not syncing: $($crash.PanicMessage)"
        ($log | Where-Object { $_ -like "CPU: $($crash.Cpu) *PID: $($crash.Pid) Comm: $($crash.Comm) *" }) | Should -Not -BeNullOrEmpty
        $crash.Comm | Should -Be 'init'
        $crash.Pid | Should -Be 1
        $crash.KallsymsAvailable | Should -BeTrue
        $crash.CallTrace.Symbol | Should -Contain 'panic'
        ($crash.CallTrace | Where-Object Symbol -eq 'panic').Address | Should -Not -BeNullOrEmpty
        $crash.Vcpus.Count | Should -Be 1
    }

    It 'formats at 80 columns with PhysBase in hex' {
        $text = Get-GuestCrashInfo -Path $dump.Path | Format-List | Out-String -Width 80
        $text | Should -Match 'PhysBase\s+: 0x[0-9a-f]+'
        $text | Should -Match 'PanicMessage\s+: sysrq triggered crash'
        # Each vCPU as "N: 0xRIP symbol", never the element type's name; every line within 80 columns.
        $cpu = (Get-GuestCrashInfo -Path $dump.Path).Vcpus[0]
        $text | Should -Not -Match 'GuestVcpuState'
        $line = ('{0}: 0x{1:x16}' -f $cpu.Cpu, $cpu.Rip) + $(if ($cpu.RipSymbol) { " $($cpu.RipSymbol)" })
        $text | Should -Match ('Vcpus\s+: ' + [regex]::Escape($line))
        $text -split "`n" | Where-Object Length -GT 80 | Should -BeNullOrEmpty
    }
}
