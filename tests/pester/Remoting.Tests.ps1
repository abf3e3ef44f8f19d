#Requires -Version 7.4
# VmDebug over PowerShell remoting (SSH), as admins reach many hosts: a private sshd on a loopback port runs pwsh as
# its powershell subsystem; the far side imports the module and drives real guests. Results come back deserialized
# and must format and filter like live ones (VmDebug.Types.ps1xml rehydrates them into the live types).
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-VmDebugModule
    $module = Get-VmDebugModulePath
    $sshd = Start-TestSshServer
    # Two guests for the parallel sessions that panic while the remote waits run (an event seen live carries QEMU's
    # time; a guest that had panicked before the call has none), and one that forwards its kernel log (3 markers at Err).
    $guestA = Start-TestGuest -PanicAfter 40
    $guestB = Start-TestGuest -PanicAfter 40
    $kmsgGuest = Start-TestGuest -KmsgPort -Markers 3 -MarkerLevel 3
    $dumps = New-TestDirectory 'vmdebug-remote-dumps-'
    $remote = @{
        HostName = 'localhost'; Port = $sshd.Port; UserName = $sshd.UserName; KeyFilePath = $sshd.KeyFilePath
        Options = $sshd.Options; ErrorAction = 'Stop'
    }

    # Column name -> cell text of the first record of a default-view rendering (table or list) at a width.
    function Get-RenderedCells($InputObject, [int] $Width = 120) {
        $lines = @(($InputObject | Out-String -Width $Width) -split "`r?`n")
        $cells = [ordered]@{}
        $dashes = [array]::FindIndex($lines, [Predicate[string]] { param($l) $l -match '^\s*-+(\s+-+)*\s*$' })
        if ($dashes -gt 0) {
            $header = $lines[$dashes - 1]; $row = $lines[$dashes + 1]
            $spans = [regex]::Matches($lines[$dashes], '-+')
            for ($i = 0; $i -lt $spans.Count; $i++) {
                $start = $spans[$i].Index
                $end = if ($i + 1 -lt $spans.Count) { $spans[$i + 1].Index } else { [Math]::Max($row.Length, $header.Length) }
                $name = $header.Substring($start, [Math]::Max(0, [Math]::Min($end, $header.Length) - $start)).Trim()
                $cell = if ($row.Length -gt $start) { $row.Substring($start, [Math]::Min($end, $row.Length) - $start).Trim() } else { '' }
                $cells[$name] = $cell
            }
        }
        else {
            foreach ($line in $lines) { if ($line -match '^(\S[^:]*?)\s*:\s?(.*)$') { $cells[$Matches[1]] = $Matches[2].Trim() } }
        }
        $cells
    }

    # PSComputerName is the column remoting adds to every remote result; the view's own columns are compared.
    function Get-NonEmptyColumns($InputObject) {
        $cells = Get-RenderedCells $InputObject
        @($cells.Keys | Where-Object { $cells[$_] -and $_ -ne 'PSComputerName' })
    }
}
AfterAll {
    Get-PSSession | Remove-PSSession
    Remove-TestArtifacts
}

Describe 'Remoting over SSH' {
    It 'runs a panic wait and a dump on two guests in parallel (Invoke-Command -Session $a,$b)' {
        $a = New-TestSshSession $sshd
        $b = New-TestSshSession $sshd
        # Each session's host gets its own guest, as each host of a fleet has its own.
        Invoke-Command -Session $a { $qmp = $using:guestA.QmpSocket; $path = Join-Path $using:dumps 'a.kdump' }
        Invoke-Command -Session $b { $qmp = $using:guestB.QmpSocket; $path = Join-Path $using:dumps 'b.kdump' }
        $results = Invoke-Command -Session $a, $b -ErrorAction Stop {
            Import-Module $using:module -ErrorAction Stop
            Wait-GuestPanic -QmpSocket $qmp -Timeout 300
            Invoke-GuestMemoryDump -QmpSocket $qmp -Path $path -Format KdumpZlib
        }
        $panics = @($results | Where-Object { $_.pstypenames -contains 'Deserialized.VmDebug.GuestPanicEvent' })
        $dumpResults = @($results | Where-Object { $_.pstypenames -contains 'Deserialized.VmDebug.GuestMemoryDump' })
        $panics.Count | Should -Be 2
        $dumpResults.Count | Should -Be 2
        @($results.RunspaceId | Sort-Object -Unique).Count | Should -Be 2
        ($panics.QmpSocket | Sort-Object) | Should -Be (@($guestA.QmpSocket, $guestB.QmpSocket) | Sort-Object)
        foreach ($panic in $panics) {
            $panic.Kind | Should -Be ([VmDebug.GuestPanicKind]::Panicked)
            $panic.Time | Should -BeOfType [DateTimeOffset]
            $panic.Time | Should -BeGreaterThan ([DateTimeOffset]::UtcNow.AddMinutes(-10))
        }
        foreach ($dump in $dumpResults) {
            $dump.Path | Should -Exist
            $dump.SizeBytes | Should -BeOfType [long]
            $dump.SizeBytes | Should -Be (Get-Item $dump.Path).Length
            $dump.GuestRamBytes | Should -BeGreaterOrEqual (256MB)
            $dump.Format | Should -Be ([VmDebug.DumpFormat]::KdumpZlib)
            $dump.Duration | Should -BeOfType [timespan]
            # VmDebug writes the kdump file itself from QEMU's stream: nothing to repair, and the pause is measured.
            @($dump.Repairs).Count | Should -Be 0
            $dump.PhysBase | Should -Not -BeNullOrEmpty
            $dump.GuestPaused | Should -BeOfType [timespan]
            $dump.GuestPaused | Should -BeLessOrEqual $dump.Duration
        }
        # Sizes compare as numbers: sorting two results by size must not be alphabetical.
        ($dumpResults | Sort-Object SizeBytes | Select-Object -First 1).SizeBytes | Should -Be (($dumpResults.SizeBytes | Measure-Object -Minimum).Minimum)
    }

    It 'renders a panic event from Invoke-Command -HostName at 120 columns with the live object''s columns' {
        # Two fresh guests, each waited for while it panics, so both events carry QEMU's time.
        $localGuest = Start-TestGuest -PanicAfter 20
        $remoteGuest = Start-TestGuest -PanicAfter 20
        $deserialized = Invoke-Command @remote -HideComputerName { Import-Module $using:module; Wait-GuestPanic -QmpSocket $using:remoteGuest.QmpSocket -Timeout 300 }
        $live = Wait-GuestPanic -QmpSocket $localGuest.QmpSocket -Timeout 300
        $deserialized.pstypenames | Should -Contain 'Deserialized.VmDebug.GuestPanicEvent'
        $columns = Get-NonEmptyColumns $live
        $columns | Should -Contain 'Time'
        Get-NonEmptyColumns $deserialized | Should -Be $columns
        (Get-RenderedCells $deserialized).Time | Should -Match '^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$'
        $deserialized.Time | Should -BeOfType [DateTimeOffset]
        $deserialized.Kind | Should -Be $live.Kind
    }

    It 'renders a dump result from Invoke-Command -HostName at 120 columns with the live object''s columns' {
        $live = Invoke-GuestMemoryDump -QmpSocket $guestB.QmpSocket -Path (Join-Path $dumps 'live.kdump') -Format KdumpZlib
        $deserialized = Invoke-Command @remote -HideComputerName {
            Import-Module $using:module
            Invoke-GuestMemoryDump -QmpSocket $using:guestB.QmpSocket -Path (Join-Path $using:dumps 'remote.kdump') -Format KdumpZlib
        }
        $deserialized.pstypenames | Should -Contain 'Deserialized.VmDebug.GuestMemoryDump'
        $columns = Get-NonEmptyColumns $live
        $columns | Should -Contain 'KernelRelease'
        Get-NonEmptyColumns $deserialized | Should -Be $columns
        $deserialized.KernelRelease | Should -Be $live.KernelRelease
        $deserialized.GuestPaused | Should -BeOfType [timespan]
        $deserialized.SizeBytes | Should -BeOfType [long]
    }

    It 'reads a guest''s kernel log remotely; Where-Object Level -le Err keeps exactly the err-and-worse records' {
        $output = Invoke-Command @remote {
            Import-Module $using:module
            # Everything up to the last marker; Select-Object -First stops the stream there.
            $seen = [System.Collections.Generic.List[object]]::new()
            $null = Get-VsockKmsgStream -ChardevSocket $using:kmsgGuest.KmsgSocket -Timeout 120 | ForEach-Object { $seen.Add($_); $_ } |
                Where-Object Message -EQ 'vmdebug marker 3' | Select-Object -First 1
            $seen
            # The far side's own answer, on the live records.
            [pscustomobject]@{ PSTypeName = 'VmDebugTest.Expected'; ErrAndWorse = [ulong[]] @($seen | Where-Object { [int] $_.Level -le 3 } | ForEach-Object Sequence) }
        }
        $records = @($output | Where-Object { $_.pstypenames -contains 'Deserialized.VmDebug.KmsgRecord' })
        $expected = ($output | Where-Object { $_.pstypenames -contains 'Deserialized.VmDebugTest.Expected' }).ErrAndWorse
        $records.Count | Should -BeGreaterThan 10
        $records[0].Level | Should -BeOfType [VmDebug.KmsgLevel]
        # Debug records are what an alphabetical comparison ('Debug' -le 'Err') would wrongly keep.
        @($records | Where-Object Level -EQ Debug).Count | Should -BeGreaterThan 0 -Because 'the boot log has debug records'
        @($expected).Count | Should -BeGreaterOrEqual 3
        @(($records | Where-Object Level -le Err).Sequence) | Should -Be @($expected)
        $marker = $records | Where-Object Message -EQ 'vmdebug marker 1'
        $marker.Received | Should -BeOfType [DateTimeOffset]
        $marker.SinceBoot | Should -BeOfType [timespan]
        $cells = Get-RenderedCells $marker
        $cells.Keys | ForEach-Object { $cells[$_] | Should -Not -BeNullOrEmpty -Because "column $_ of a deserialized record" }
    }
}

Describe 'Other serialization boundaries' {
    It 'keeps a panic event typed through Export-Clixml and Import-Clixml' {
        $live = Wait-GuestPanic -QmpSocket $guestA.QmpSocket -Timeout 60
        $file = Join-Path $dumps 'panic.clixml'
        $live | Export-Clixml $file
        $back = Import-Clixml $file
        $back | Should -BeOfType [VmDebug.GuestPanicEvent]
        $back.Time | Should -Be $live.Time
        $back.Waited | Should -Be $live.Waited
        Get-NonEmptyColumns $back | Should -Be (Get-NonEmptyColumns $live)
    }
}
