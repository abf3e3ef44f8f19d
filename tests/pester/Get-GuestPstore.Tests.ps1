#Requires -Version 7.4
# Get-GuestPstore against a real guest with a ramoops region that finishes its panic (-action panic=none, panic=0:
# it stays in the panic loop after pstore wrote), read live over QMP; and the same guest with a wrong layout.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $skip = Get-MissingToolReason 'qemu-system-x86_64'
}
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-VmDebugModule
    $ramoops = 'memmap=1M$0x30000000 ramoops.mem_address=0x30000000 ramoops.mem_size=0x100000 ramoops.record_size=0x20000'
}
AfterAll { Remove-TestArtifacts }

Describe 'Get-GuestPstore' -Skip:([bool]$skip) {
    BeforeAll {
        # The later -action and -append win over Start-TestGuest's own: let the panic finish, give ramoops its region.
        $guest = Start-TestGuest -MemoryMiB 1024 -ExtraArgument '-action', 'panic=none',
            '-append', "console=ttyS0 panic=0 quiet vmdebug.panic_after=1 $ramoops"
        $deadline = [datetime]::UtcNow.AddMinutes(3)
        $records = @()
        while (-not $records -and [datetime]::UtcNow -lt $deadline) {
            Start-Sleep -Seconds 2
            $records = @(Get-GuestPstore -QmpSocket $guest.QmpSocket -ErrorAction SilentlyContinue -WarningAction SilentlyContinue)
        }
    }
    AfterAll { Stop-TestGuest $guest }

    It 'returns the decompressed Panic record read live over QMP' {
        $records.Count | Should -Be 1
        $record = $records[0]
        $record | Should -BeOfType ([VmDebug.PstoreRecord])
        $record.Kind | Should -Be 'Dmesg'
        $record.Reason | Should -Be 'Panic'
        $record.Count | Should -Be 1
        $record.Compressed | Should -BeTrue
        $record.Time | Should -BeGreaterThan ([datetimeoffset]::UtcNow.AddHours(-1))
        $record.Text | Should -Match 'Kernel panic - not syncing: sysrq triggered crash'
        $record.Summary | Should -BeLike '*Kernel panic - not syncing*'
    }

    It 'shows a table that fits 80 columns' {
        $lines = ($records | Format-Table | Out-String -Width 80) -split "`n"
        $lines | Where-Object { $_.TrimEnd().Length -gt 80 } | Should -BeNullOrEmpty
        ($lines -join "`n") | Should -Match 'Dmesg\s+0\s+Panic'
    }

    It 'takes the layout from parameters, and a layout where no ramoops zone is gives one typed error' {
        $given = @(Get-GuestPstore -QmpSocket $guest.QmpSocket -MemAddress 0x30000000 -MemSize 1MB -RecordSize 128KB)
        $given.Text | Should -Be $records.Text
        $errors = $null
        Get-GuestPstore -QmpSocket $guest.QmpSocket -MemAddress 0x20000000 -MemSize 1MB -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'PstoreNoRegion*'
    }
}
