#Requires -Version 7.4
# Get-GuestKernelLog against a real guest: its dump (made by Invoke-GuestMemoryDump) and the live guest over QMP.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $skip = Get-MissingToolReason 'qemu-system-x86_64', 'makedumpfile'
}
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-VmDebugModule
    $dir = New-TestDirectory
}
AfterAll { Remove-TestArtifacts }

Describe 'Get-GuestKernelLog' -Skip:([bool]$skip) {
    Context 'a panicked guest''s dump' {
        BeforeAll {
            $guest = Start-TestGuest -PanicAfter 0 -Markers 4
            Wait-TestGuestStatus $guest 'guest-panicked'
            $dump = Invoke-GuestMemoryDump -QmpSocket $guest.QmpSocket -Path (Join-Path $dir 'guest.elf')
            Stop-TestGuest $guest
        }

        It 'returns KmsgRecords named after the dump, panic included, as makedumpfile reads them' {
            $records = @($dump | Get-GuestKernelLog)
            $records[0] | Should -BeOfType ([VmDebug.KmsgRecord])
            $records.Guest | Sort-Object -Unique | Should -Be $dump.Path
            $records.Message | Should -Contain 'vmdebug marker 4'
            $panic = $records | Where-Object Message -Like 'Kernel panic - not syncing:*'
            $panic.Level | Should -Be 'Emerg'
            $reference = Join-Path $dir 'reference.txt'
            & (Find-TestTool 'makedumpfile') --dump-dmesg --message-level 0 $dump.Path $reference | Out-Null
            # makedumpfile's line for each record: the same text after the timestamp.
            $lines = @(Get-Content $reference | Where-Object { $_ -match '^\[' })
            $lines.Count | Should -Be $records.Count
            $lines[-1] | Should -BeLike "*] $($records[-1].Message)"
        }

        It 'merges with a streamed log by Sequence into one timeline' {
            $all = @(Get-GuestKernelLog -LiteralPath $dump.Path)
            $streamed = $all | Select-Object -First 10
            $timeline = @($streamed + (Get-GuestKernelLog -Path $dump.Path) | Sort-Object Sequence -Unique)
            $timeline.Count | Should -Be $all.Count
            $timeline[-1].Message | Should -Be $all[-1].Message
        }

        It 'honours -Tail and -MinimumLevel' {
            $all = @(Get-GuestKernelLog -Path $dump.Path)
            $tail = @(Get-GuestKernelLog -Path $dump.Path -Tail 3)
            $tail.Sequence | Should -Be ($all | Select-Object -Last 3).Sequence
            $errors = @(Get-GuestKernelLog -Path $dump.Path -MinimumLevel Err)
            $errors | ForEach-Object { [int]$_.Level | Should -BeLessOrEqual ([int][VmDebug.KmsgLevel]::Err) }
            $errors.Message | Should -Contain ($all | Where-Object Message -Like 'Kernel panic*').Message
        }

        It 'reports a file that is not a dump with one typed error' {
            $bogus = Join-Path $dir 'bogus'
            Set-Content -LiteralPath $bogus -Value 'not a vmcore'
            $errors = $null
            Get-GuestKernelLog -Path $bogus -ErrorVariable errors -ErrorAction SilentlyContinue
            $errors.Count | Should -Be 1
            $errors[0].FullyQualifiedErrorId | Should -BeLike 'Vmcore*'
        }
    }

    Context 'a running guest over QMP' {
        It 'reads the live log and leaves the guest running' {
            $guest = Start-TestGuest -Markers 3
            try {
                $deadline = [datetime]::UtcNow.AddMinutes(2)
                do {
                    Start-Sleep -Seconds 1
                    $records = @(Get-GuestKernelLog -QmpSocket $guest.QmpSocket -ErrorAction SilentlyContinue)
                    # Under strict mode, .Message of an empty array throws: filter instead.
                    $marker = @($records | Where-Object { $_.Message -eq 'vmdebug marker 3' })
                } until ($marker.Count -gt 0 -or [datetime]::UtcNow -gt $deadline)
                $marker.Count | Should -Be 1
                $records.Guest | Sort-Object -Unique | Should -Be $guest.QmpSocket
                Get-TestGuestStatus $guest | Should -Be 'running'
            }
            finally { Stop-TestGuest $guest }
        }
    }
}
