#Requires -Version 7.4
# Receive-VirtioTrace end to end: the test guest runs trace-agent (built statically from Debian's linux-source-6.1 by
# scripts/build-trace-agent.sh, shipped in an extra initramfs appended to the shared one) with the sched events on;
# QEMU gets the channels from Add-VirtioTraceChannel -QemuArguments. trace-cmd, the peer reader, joins what arrived.

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $PSScriptRoot 'runspace.ps1')
    . (Join-Path $PSScriptRoot 'virtio-trace.ps1')
    Import-VmDebugModule
    $skipReason = Get-VirtioTraceSkipReason

    # trace-cmd's records per CPU ("[000]" is the CPU column of trace-cmd report).
    function Get-TraceCmdEventCount([string] $TraceDat) {
        $lines = & trace-cmd report $TraceDat 2>$null
        if ($LASTEXITCODE) { throw "trace-cmd report $TraceDat failed with exit code $LASTEXITCODE" }
        $counts = @{}
        foreach ($line in $lines) {
            if ($line -match '\s\[(\d{3})\]\s') { $counts[[int]$Matches[1]] = 1 + ($counts[[int]$Matches[1]] ?? 0) }
        }
        [pscustomobject]@{ Lines = $lines; PerCpu = $counts }
    }
}

AfterAll {
    Remove-TestArtifacts
}

Describe 'Receive-VirtioTrace' {
    BeforeAll {
        if (-not $skipReason) { $trace = Start-TraceGuest -CpuCount 2 -Initrd (New-TraceInitrd) }
    }

    BeforeEach {
        if ($skipReason) { Set-ItResult -Skipped -Because $skipReason }
    }

    It 'collects 5 s from every CPU, and trace-cmd report shows the guest''s events, as many as counted' {
        $out = Join-Path $trace.Work 'out'
        $capture = Receive-VirtioTrace -Directory $trace.Fifos -OutputPath $out -Duration 5 -ErrorAction Stop -WarningVariable warnings
        $warnings | Should -BeNullOrEmpty
        $capture | Should -BeOfType ([VmDebug.VirtioTraceCapture])
        $capture.Duration.TotalSeconds | Should -BeGreaterOrEqual 5
        $capture.Cpus.Count | Should -Be 2
        foreach ($cpu in $capture.Cpus) {
            $cpu.Pages | Should -BeGreaterThan 0 -Because "CPU $($cpu.Cpu) ran the scheduler workload"
            $cpu.Bytes | Should -Be ((Get-Item -LiteralPath $cpu.Path).Length)
            $cpu.Bytes | Should -Be ($cpu.Pages * 4096)
            (Get-Item -LiteralPath $cpu.Path).UnixFileMode | Should -Be ([System.IO.UnixFileMode]'UserRead, UserWrite')
        }
        $capture.MetadataPath | Should -Exist
        Join-Path $capture.MetadataPath 'events' 'header_page' | Should -Exist

        foreach ($command in $capture.RestoreCommands) {
            & bash -c "$command >/dev/null 2>&1"
            $LASTEXITCODE | Should -Be 0 -Because $command
        }
        $report = Get-TraceCmdEventCount (Join-Path $out 'trace.dat')
        $report.Lines | Where-Object { $_ -match 'sched_switch:\s+\S+ \[\d+\] \S+ ==> ' } | Should -Not -BeNullOrEmpty
        foreach ($cpu in $capture.Cpus) {
            $report.PerCpu[$cpu.Cpu] | Should -Be $cpu.Events -Because "trace-cmd lists CPU $($cpu.Cpu)'s events"
        }
        ($report.PerCpu.Values | Measure-Object -Sum).Sum | Should -Be $capture.Events
    }

    It 'stops the agent at Ctrl+C and keeps what arrived' {
        $out = Join-Path $trace.Work 'stopped'
        $ps = New-TestPowerShell
        try {
            $null = $ps.AddCommand('Receive-VirtioTrace').AddParameter('Directory', $trace.Fifos).AddParameter('OutputPath', $out)
            $stopTook = Stop-TestPowerShell $ps -After ([timespan]::FromSeconds(4))
        }
        finally { Remove-TestPowerShell $ps }
        $stopTook.TotalSeconds | Should -BeLessThan 15 -Because 'the drain after Ctrl+C is bounded'
        Join-Path $out 'trace-cpu0.raw' | Should -Exist
        (Get-Item -LiteralPath (Join-Path $out 'trace-cpu0.raw')).Length % 4096 | Should -Be 0
        # The agent took the stop order: a new start order works again.
        $again = Receive-VirtioTrace -Directory $trace.Fifos -OutputPath (Join-Path $trace.Work 'again') -Duration 3 -ErrorAction Stop -WarningAction SilentlyContinue
        $again.Pages | Should -BeGreaterThan 0
    }

    It 'never replaces an existing file in the output directory' {
        $out = Join-Path $trace.Work 'taken'
        New-Item -ItemType Directory $out | Out-Null
        Set-Content -LiteralPath (Join-Path $out 'trace-cpu0.raw') -Value 'keep me'
        { Receive-VirtioTrace -Directory $trace.Fifos -OutputPath $out -Duration 1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'VirtioTraceOutputExists,VmDebug.Commands.ReceiveVirtioTraceCommand'
        Get-Content -LiteralPath (Join-Path $out 'trace-cpu0.raw') | Should -Be 'keep me'
    }
}

Describe 'Receive-VirtioTrace without a guest' {
    It 'says that no QEMU holds the FIFOs, at once' {
        $dir = Join-Path (New-TestDirectory) 'fifos'
        Add-VirtioTraceChannel -QemuArguments -CpuCount 1 -Directory $dir -ErrorAction Stop | Out-Null
        $clock = [Diagnostics.Stopwatch]::StartNew()
        { Receive-VirtioTrace -Directory $dir -OutputPath (Join-Path (New-TestDirectory) 'out') -Duration 5 -ErrorAction Stop } |
            Should -Throw -ErrorId 'VirtioTraceGuestNotConnected,VmDebug.Commands.ReceiveVirtioTraceCommand'
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
    }

    It 'names a directory without channels' {
        { Receive-VirtioTrace -Directory (New-TestDirectory) -OutputPath (Join-Path (New-TestDirectory) 'out') -ErrorAction Stop } |
            Should -Throw -ErrorId 'VirtioTraceChannelsNotFound,VmDebug.Commands.ReceiveVirtioTraceCommand'
    }
}
