#Requires -Version 7.4
# Dump levels through the cmdlets against a real panicked guest: Invoke-GuestMemoryDump -DumpLevel, Convert-Vmcore
# -DumpLevel and Get-GuestMemoryUsage, whose counts must agree with each other and with the files written.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-VmDebugModule
    $guest = Start-TestGuest -MemoryMiB 256 -PanicAfter 0 -Markers 3
    Wait-TestGuestStatus $guest 'guest-panicked'
    $dir = New-TestDirectory
}
AfterAll { Remove-TestArtifacts }

Describe 'Dump levels' {
    It 'dumps at -DumpLevel 31 in LZO and counts the classes' {
        $script:filtered = Invoke-GuestMemoryDump -QmpSocket $guest.QmpSocket -Path (Join-Path $dir 'd31.kdump') -Format KdumpLzo -DumpLevel 31
        $filtered | Should -BeOfType ([VmDebug.GuestMemoryDump])
        $filtered.DumpLevel | Should -Be 31
        $filtered.Pages | Should -BeOfType ([VmDebug.GuestMemoryUsage])
        $filtered.Pages.Free | Should -BeGreaterThan ($filtered.Pages.Total / 2)
        $filtered.Pages.Kept | Should -BeLessThan ($filtered.Pages.Total / 4)
        (Get-ChildItem -LiteralPath $dir -Force).Name | Should -Be 'd31.kdump'
    }

    It 'Get-GuestMemoryUsage reads the same counts from the pipeline without writing' {
        $usage = $filtered | Get-GuestMemoryUsage
        $usage | Should -BeOfType ([VmDebug.GuestMemoryUsage])
        $usage.Free | Should -Be $filtered.Pages.Free
        $usage.Kept | Should -Be $filtered.Pages.Kept
        @(Get-ChildItem -LiteralPath $dir -Force).Count | Should -Be 1
        ($usage | Out-String -Width 80) | Should -Match 'Kept'
    }

    It 'Convert-Vmcore -DumpLevel 31 keeps the pages the live dump kept' {
        $elf = Invoke-GuestMemoryDump -QmpSocket $guest.QmpSocket -Path (Join-Path $dir 'full.elf')
        $converted = Convert-Vmcore -LiteralPath $elf.Path -Destination (Join-Path $dir 'conv.kdump') -Format KdumpZlib -DumpLevel 31
        $converted.Pages.Kept | Should -Be $filtered.Pages.Kept
        $converted.Pages.Free | Should -Be $filtered.Pages.Free
        $converted.SizeBytes | Should -BeLessThan ($elf.SizeBytes / 4)
        (Get-GuestMemoryUsage -LiteralPath $elf.Path -DumpLevel 16).Free | Should -Be $filtered.Pages.Free
    }

    It 'refuses a level outside 0..31 and a level with Elf, leaving nothing' {
        { Invoke-GuestMemoryDump -QmpSocket $guest.QmpSocket -Path (Join-Path $dir 'x') -Format KdumpZlib -DumpLevel 32 -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError*'
        { Invoke-GuestMemoryDump -QmpSocket $guest.QmpSocket -Path (Join-Path $dir 'x') -Format Elf -DumpLevel 31 -ErrorAction Stop } |
            Should -Throw -ErrorId 'DumpLevelNeedsKdump*'
        Test-Path -LiteralPath (Join-Path $dir 'x') | Should -BeFalse
    }

    It 'reports a file that is not a vmcore as one error naming it' {
        $bare = Join-Path $dir 'bare.elf'
        [System.IO.File]::WriteAllBytes($bare, [byte[]]::new(100))
        Get-GuestMemoryUsage -LiteralPath $bare -ErrorVariable failures -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $failures.Count | Should -Be 1
        $failures[0].TargetObject | Should -Be $bare
    }
}
