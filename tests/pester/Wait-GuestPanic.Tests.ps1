#Requires -Version 7.4
# Wait-GuestPanic against real guests (QEMU under TCG): one that panics (pvpanic, panic action pause), one that never does.

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $PSScriptRoot 'runspace.ps1')
    Import-VmDebugModule
    $guest = Start-TestGuest -MemoryMiB 128 -PanicAfter 0
    $calm = Start-TestGuest -MemoryMiB 128
    $panic = Wait-GuestPanic -QmpSocket $guest.QmpSocket -Timeout 120 -ErrorAction Stop
}

AfterAll { Remove-TestArtifacts }

Describe 'Wait-GuestPanic' {
    It 'returns the panic event with QEMU''s time' {
        $panic | Should -BeOfType ([VmDebug.GuestPanicEvent])
        $panic.Kind | Should -Be 'Panicked'
        $panic.Action | Should -Be 'pause'
        $panic.AlreadyPanicked | Should -BeFalse
        $panic.Time | Should -BeGreaterThan ([DateTimeOffset]::Now.AddMinutes(-5))
        Get-TestGuestStatus $guest | Should -Be 'guest-panicked'
    }

    Context 'a guest that had panicked before the call' {
        BeforeAll {
            $before = [DateTimeOffset]::Now
            $again = Wait-GuestPanic $guest.QmpSocket -Timeout 30 -ErrorAction Stop
        }

        It 'binds QmpSocket by position and sees the panic from query-status' {
            $again.AlreadyPanicked | Should -BeTrue
            $again.Kind | Should -Be 'Panicked'
        }

        It 'defect 16: does not report the time of the query as the panic time' {
            # QEMU keeps no record of when the guest panicked: the time is unknown, not "now".
            $again.Time | Should -BeNullOrEmpty
            if ($null -ne $again.Time) { $again.Time | Should -BeLessThan $before }
        }

        It 'defect 16: the view says the time is unknown, at 80 and 120 columns' {
            foreach ($width in 80, 120) {
                $text = $again | Out-String -Width $width
                $text | Should -Match 'Panicked\s+unknown\s+pause'
                $text | Should -Not -Match ([regex]::Escape($before.ToString('yyyy-MM-dd HH:mm')))
            }
        }
    }

    It 'renders the event at 80 and 120 columns with kind, time, action and socket' {
        foreach ($width in 80, 120) {
            $text = $panic | Out-String -Width $width
            $text | Should -Match 'Panicked\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+pause'
        }
        ($panic | Out-String -Width 120) | Should -Match ([regex]::Escape($guest.QmpSocket))
    }

    It 'binds QmpSocket by property name, one event per input' {
        $events = @($guest, $guest | Select-Object QmpSocket | Wait-GuestPanic -Timeout 30 -ErrorAction Stop)
        $events.Count | Should -Be 2
        $events.AlreadyPanicked | Should -Be $true, $true
    }

    It 'works under Set-StrictMode -Version Latest' {
        Set-StrictMode -Version Latest
        $event = Wait-GuestPanic -QmpSocket $guest.QmpSocket -Timeout 30 -ErrorAction Stop
        $event.Waited | Should -BeGreaterThan ([TimeSpan]::Zero)
        $event | Out-String | Should -Match 'Panicked'
    }

    Context 'errors' {
        It 'a guest that does not panic in -Timeout is one OperationTimeout error naming the socket' {
            Wait-GuestPanic -QmpSocket $calm.QmpSocket -Timeout 1 -ErrorVariable problem -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $problem.Count | Should -Be 1
            $problem[0].FullyQualifiedErrorId | Should -Be 'GuestPanicWaitTimeout,VmDebug.Commands.WaitGuestPanicCommand'
            $problem[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
            $problem[0].TargetObject | Should -Be $calm.QmpSocket
        }

        It 'one missing socket among several inputs is one error; the others return their events' {
            $missing = Join-Path $guest.Directory 'missing.sock'
            $events = @([pscustomobject]@{ QmpSocket = $missing }, [pscustomobject]@{ QmpSocket = $guest.QmpSocket } |
                Wait-GuestPanic -Timeout 30 -ErrorVariable problem -ErrorAction SilentlyContinue)
            $events.Count | Should -Be 1
            $problem.Count | Should -Be 1
            $problem[0].TargetObject | Should -Be $missing
            $problem[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }

        It '-ErrorAction Stop makes the timeout terminating' {
            { Wait-GuestPanic -QmpSocket $calm.QmpSocket -Timeout 1 -ErrorAction Stop } | Should -Throw -ErrorId 'GuestPanicWaitTimeout,*'
        }
    }

    It 'Ctrl+C ends the wait within 1 s and frees the QMP socket' {
        $ps = New-TestPowerShell
        try {
            $null = $ps.AddCommand('Wait-GuestPanic').AddParameter('QmpSocket', $calm.QmpSocket)
            $stop = Stop-TestPowerShell $ps -After ([timespan]::FromSeconds(2))
            $stop.TotalSeconds | Should -BeLessThan 1
            $ps.Streams.Error.Count | Should -Be 0
            # QEMU serves one QMP client at a time: the next one gets in only if the cancelled wait closed its connection.
            $clock = [Diagnostics.Stopwatch]::StartNew()
            Get-TestGuestStatus $calm | Should -Be 'running'
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
        }
        finally { Remove-TestPowerShell $ps }
    }
}
