#Requires -Version 7.4
# Get-VsockKmsgStream against a real guest whose /dev/kmsg is copied to a virtio-serial port (vsock cannot run end to
# end on these machines). Gaps in sequence numbers, which a healthy guest never sends, come from a fake chardev server.

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $PSScriptRoot 'runspace.ps1')
    . (Join-Path $PSScriptRoot 'libvirt-domains.ps1')
    Import-VmDebugModule
    $guest = Start-TestGuest -KmsgPort -Markers 3 -MarkerLevel 3
    # The guest's copy of /dev/kmsg ends when its first reader disconnects: read the boot log once, up to the last marker.
    $records = [System.Collections.Generic.List[object]]::new()
    Get-VsockKmsgStream -ChardevSocket $guest.KmsgSocket -Timeout 120 -ErrorAction Stop |
        Where-Object { $records.Add($_); $_.Message -eq 'vmdebug marker 3' } | Select-Object -First 1 | Out-Null
    if (-not ($records | Where-Object Message -EQ 'vmdebug marker 3')) {
        $qemu = if ($guest.Process.HasExited) { "QEMU exited with code $($guest.Process.ExitCode)" } else { 'QEMU still runs' }
        throw "the stream ended after $($records.Count) records without the last marker; $qemu. Console: $(Get-Content -Raw -LiteralPath $guest.ConsoleLog -ErrorAction Ignore)"
    }
    $work = New-TestDirectory

    # A chardev server that sends $Text to its one client, then closes: the stream ends with it.
    function Start-FakeChardev([string] $Text) {
        $path = Join-Path $work "fake-$([guid]::NewGuid().ToString('N').Substring(0, 8)).sock"
        $listener = [System.Net.Sockets.Socket]::new([System.Net.Sockets.AddressFamily]::Unix, [System.Net.Sockets.SocketType]::Stream,
            [System.Net.Sockets.ProtocolType]::Unspecified)
        $listener.Bind([System.Net.Sockets.UnixDomainSocketEndPoint]::new($path))
        $listener.Listen(1)
        $null = Start-ThreadJob -ArgumentList $listener, $Text {
            param($listener, $text)
            $client = $listener.Accept()
            $null = $client.Send([Text.Encoding]::UTF8.GetBytes($text))
            $client.Shutdown([System.Net.Sockets.SocketShutdown]::Both)
            $client.Dispose()
            $listener.Dispose()
        }
        $path
    }

    # The text of the Message column in the row of the table view at $Width columns.
    function Get-MessageCell($Record, [int] $Width) {
        $lines = @(($Record | Format-Table | Out-String -Width $Width) -split "`n" | Where-Object { $_.Trim() })
        $start = $lines[0].IndexOf('Message')
        $lines[2].Substring($start).TrimEnd()
    }
}

AfterAll {
    Get-Job | Remove-Job -Force
    Remove-TestArtifacts
}

Describe 'Get-VsockKmsgStream' {
    Context 'records from a real guest' {
        It 'streams from sequence 0, with the guest''s levels' {
            $records[0] | Should -BeOfType ([VmDebug.KmsgRecord])
            $records[0].Sequence | Should -Be 0
            $records[0].Message | Should -BeLike 'Linux version *'
            ($records | Where-Object Message -EQ 'vmdebug marker 1').Level | Should -Be 'Err'
            $records.Guest | Sort-Object -Unique | Should -Be $guest.KmsgSocket
        }

        It 'defect 7: the table leaves Message at least 38 characters at 80 columns and 110 at 160' {
            $long = $records[0]
            $long.Message.Length | Should -BeGreaterThan 120
            (Get-MessageCell $long 80).Length | Should -BeGreaterOrEqual 38
            (Get-MessageCell $long 160).Length | Should -BeGreaterOrEqual 110
        }

        It 'defect 7: Guest and Seq have fixed widths: a long socket path keeps its end, the sequence stays whole' {
            $text = $records[0..9] | Format-Table | Out-String -Width 80
            $text | Should -Match 'kmsg\.sock'
            $marker = $records | Where-Object Message -EQ 'vmdebug marker 3'
            ($marker | Format-Table | Out-String -Width 80) | Should -Match ('\s{0}\s+Err\s+vmdebug marker 3' -f $marker.Sequence)
        }

        It 'renders at 120 columns without control characters' {
            ($records | Format-Table | Out-String -Width 120) | Should -Not -Match '[\x00-\x08\x0b-\x1f\x7f]'
        }

        It 'defect 19: Export-Csv writes Fields as KEY=value and the message once' {
            $csv = Join-Path $work 'kmsg.csv'
            $records | Export-Csv -LiteralPath $csv
            $header = (Get-Content -LiteralPath $csv -TotalCount 1) -split ',' -replace '"'
            $header | Should -Contain 'Message'
            $header | Should -Contain 'Fields'
            @($header | Where-Object { $_ -like '*Message*' }).Count | Should -Be 1
            $markerLine = Get-Content -LiteralPath $csv | Where-Object { $_ -like '*vmdebug marker 3*' }
            ([regex]::Matches($markerLine, 'vmdebug marker 3')).Count | Should -Be 1
            $rows = Import-Csv -LiteralPath $csv
            $rows.Fields | Should -Not -BeLike 'System.*'
            $withFields = @($records | Where-Object { $_.Fields.Count -gt 0 })
            $withFields.Count | Should -BeGreaterThan 0 -Because 'the guest''s boot log has device records (SUBSYSTEM=, DEVICE=)'
            $row = $rows | Where-Object Sequence -EQ $withFields[0].Sequence
            $row.Fields | Should -Match '^[A-Z]+=\S+(; [A-Z]+=\S+)*$'
            foreach ($field in $withFields[0].Fields.GetEnumerator()) { $row.Fields | Should -Match ([regex]::Escape("$($field.Key)=$($field.Value)")) }
        }

        It 'Fields survive serialization (Start-Job, remoting) as KEY=value pairs' {
            $record = $records | Where-Object { $_.Fields.Count -gt 0 } | Select-Object -First 1
            $copy = [Management.Automation.PSSerializer]::Deserialize([Management.Automation.PSSerializer]::Serialize($record))
            # A serialized dictionary travels as a hashtable: the pairs survive, their order need not.
            @($copy.Fields.Keys | Sort-Object) | Should -Be @($record.Fields.Keys | Sort-Object)
            foreach ($key in $record.Fields.Keys) { $copy.Fields[$key] | Should -Be $record.Fields[$key] }
            "$($copy.Fields)" | Should -Match '^[A-Z]+=\S+(; [A-Z]+=\S+)*$'
        }

        It 'works under Set-StrictMode -Version Latest' {
            Set-StrictMode -Version Latest
            $records[0].Fields.Count | Should -BeGreaterOrEqual 0
            $records[0].GetDisplayMessage() | Should -BeLike 'Linux version *'
            $records[0] | Out-String | Should -Match 'Linux version'
        }

        It 'Ctrl+C ends a stream that is waiting for records within 1 s' {
            $ps = New-TestPowerShell
            try {
                $null = $ps.AddCommand('Get-VsockKmsgStream').AddParameter('ChardevSocket', $guest.KmsgSocket)
                $stop = Stop-TestPowerShell $ps -After ([timespan]::FromSeconds(2))
                $stop.TotalSeconds | Should -BeLessThan 1
                $ps.Streams.Error.Count | Should -Be 0
            }
            finally { Remove-TestPowerShell $ps }
        }
    }

    Context 'streams from a fake chardev server' {
        It 'defect 20: the gap warning names the missing sequence numbers' {
            $socket = Start-FakeChardev "6,1,1000,-;one`n6,2,2000,-;two`n6,5,5000,-;five`n6,7,7000,-;seven`n"
            $got = @(Get-VsockKmsgStream -ChardevSocket $socket -Timeout 30 -WarningVariable gaps -WarningAction SilentlyContinue)
            $got.Sequence | Should -Be 1, 2, 5, 7
            $gaps.Count | Should -Be 2
            $gaps[0].Message | Should -Match 'skipped 2 records \(sequences 3 to 4\)'
            $gaps[1].Message | Should -Match 'skipped 1 record \(sequence 6\)'
        }

        It 'ends after -Count records' {
            $socket = Start-FakeChardev (-join (1..10 | ForEach-Object { "6,$_,$($_ * 1000),-;record $_`n" }))
            $got = @(Get-VsockKmsgStream -ChardevSocket $socket -Count 4 -Timeout 30)
            $got.Sequence | Should -Be 1, 2, 3, 4
        }
    }

    Context 'binding and errors' {
        It 'defect 20: a bare call names the possible sources instead of prompting for a vsock Port' {
            $ps = New-TestPowerShell
            try {
                $null = $ps.AddCommand('Get-VsockKmsgStream')
                { $ps.Invoke() } | Should -Not -Throw
                $ps.Streams.Error.Count | Should -Be 1
                $ps.Streams.Error[0].FullyQualifiedErrorId | Should -Be 'KmsgSourceMissing,VmDebug.Commands.GetVsockKmsgStreamCommand'
                $ps.Streams.Error[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            }
            finally { Remove-TestPowerShell $ps }
        }

        It 'binds -Domain by position, its Name alias and by property name; each bad input is its own error' {
            $uri = 'qemu:///system?socket=/nonexistent/libvirt-sock'
            Get-VsockKmsgStream web1 -ConnectionUri $uri -ErrorVariable byPosition -ErrorAction SilentlyContinue
            Get-VsockKmsgStream -Name web2 -ConnectionUri $uri -ErrorVariable byAlias -ErrorAction SilentlyContinue
            [pscustomobject]@{ Domain = 'web3' }, [pscustomobject]@{ Name = 'web4' } |
                Get-VsockKmsgStream -ConnectionUri $uri -ErrorVariable byProperty -ErrorAction SilentlyContinue
            foreach ($problem in @($byPosition) + @($byAlias) + @($byProperty)) {
                $problem.FullyQualifiedErrorId | Should -BeLike 'LibvirtConnectionFailed,*'
                $problem.CategoryInfo.Category | Should -Be 'ConnectionError'
            }
            @($byProperty).Count | Should -Be 2
            @($byPosition)[0].Exception.Message | Should -Match 'nonexistent'
        }

        It 'a chardev socket that does not exist is an ObjectNotFound error naming it' {
            $missing = Join-Path $work 'missing.sock'
            Get-VsockKmsgStream -ChardevSocket $missing -ErrorVariable problem -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $problem.Count | Should -Be 1
            $problem[0].TargetObject | Should -Be $missing
        }
    }

    Context 'domain completion from the private libvirtd' {
        BeforeAll {
            $daemon = Start-TestLibvirtDaemon
            if (-not $daemon.SkipReason) { Add-TestDomain $daemon 'web1', 'web2', 'db1' }
        }
        AfterAll { Stop-TestLibvirtDaemon $daemon }

        It 'defect 12: -Domain completes the names of the daemon named by -ConnectionUri' {
            if ($daemon.SkipReason) { Set-ItResult -Skipped -Because $daemon.SkipReason; return }
            Get-TestCompletion "Get-VsockKmsgStream -ConnectionUri '$($daemon.Uri)' -Domain we" | Should -Be 'web1', 'web2'
            Get-TestCompletion "Get-VsockKmsgStream -ConnectionUri '$($daemon.Uri)' -Domain " | Should -Be 'db1', 'web1', 'web2'
        }
    }
}
