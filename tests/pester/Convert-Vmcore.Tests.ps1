#Requires -Version 7.4
# Convert-Vmcore in pwsh on the ELF vmcore of a real panicked test guest (256 MiB, QEMU under TCG), dumped once.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-VmDebugModule
    $dir = New-TestDirectory
    $guest = Start-TestGuest -PanicAfter 0
    Wait-TestGuestStatus $guest -Status 'guest-panicked'
    $elf = (Invoke-GuestMemoryDump -QmpSocket $guest.QmpSocket -Path (Join-Path $dir 'web1.elf') -Format Elf).Path
    Stop-TestGuest $guest

    # A fresh, empty destination directory per test.
    function New-Destination { New-TestDirectory 'vmdebug-convert-' }
}
AfterAll { Remove-TestArtifacts }

Describe 'Convert-Vmcore' {
    It 'converts by position to kdump-zlib, 0600, readable by makedumpfile' {
        $out = Join-Path (New-Destination) 'web1.kdump'
        $result = Convert-Vmcore $elf $out
        $result | Should -BeOfType ([VmDebug.GuestMemoryDump])
        $result.Path | Should -Be $out
        $result.Format | Should -Be 'KdumpZlib'
        $result.Target | Should -Be $elf
        $result.SizeBytes | Should -BeLessThan ((Get-Item $elf).Length / 4)
        $result.KernelRelease | Should -Not -BeNullOrEmpty
        [int] (Get-Item $out).UnixFileMode | Should -Be ([Convert]::ToInt32('600', 8))
        if (Find-TestTool 'makedumpfile') {
            $log = Join-Path (Split-Path $out) 'dmesg.txt'
            & makedumpfile --dump-dmesg --message-level 0 $out $log
            $LASTEXITCODE | Should -Be 0
            Get-Content -Raw $log | Should -Match 'Kernel panic - not syncing'
        }
    }

    It 'defect 3: a pattern without matches is one ErrorRecord with id, category and the pattern as target' {
        $pattern = Join-Path $dir 'nothing-*.elf'
        Convert-Vmcore -Path $pattern -Destination (New-Destination) -ErrorAction SilentlyContinue -ErrorVariable failures | Should -BeNullOrEmpty
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'PathNotFound,VmDebug.Commands.ConvertVmcoreCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failures[0].TargetObject | Should -Be $pattern
    }

    It 'defect 3 and 11: a pattern with several matches converts each into a directory' {
        $inputs = New-Destination
        foreach ($name in 'a.elf', 'b.elf') { New-Item -ItemType HardLink -Path (Join-Path $inputs $name) -Target $elf | Out-Null }
        $out = New-Destination
        $results = @(Convert-Vmcore -Path (Join-Path $inputs '*.elf') -Destination $out -Format KdumpLzo)
        $results.Count | Should -Be 2
        ($results.Target | Sort-Object) | Should -Be @((Join-Path $inputs 'a.elf'), (Join-Path $inputs 'b.elf'))
    }

    It 'defect 4: a missing path is non-terminating: -ErrorAction SilentlyContinue hides it and the next input runs' {
        $missing = Join-Path $dir 'missing.elf'
        $out = New-Destination
        $results = @(Convert-Vmcore -LiteralPath $missing, $elf -Destination $out -ErrorAction SilentlyContinue -ErrorVariable failures)
        $results.Count | Should -Be 1
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'PathNotFound,VmDebug.Commands.ConvertVmcoreCommand'
        $failures[0].TargetObject | Should -Be $missing
        # Wildcard -Path too, for a name without wildcards.
        Convert-Vmcore -Path $missing -Destination $out -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'defect 11: inputs piped into a directory get generated names: name-UTCtime.ext' {
        $inputs = New-Destination
        foreach ($name in 'web1.elf', 'web2.elf') { New-Item -ItemType HardLink -Path (Join-Path $inputs $name) -Target $elf | Out-Null }
        $out = New-Destination
        $started = [DateTime]::UtcNow.AddSeconds(-1)
        $results = @(Get-ChildItem $inputs | Convert-Vmcore -Destination $out -Format KdumpSnappy)
        $results.Count | Should -Be 2
        foreach ($result in $results) {
            $name = Split-Path -Leaf $result.Path
            $name | Should -Match '^(web1|web2)-\d{8}T\d{6}Z\.kdump$'
            $time = [DateTime]::ParseExact(($name -split '-')[1].Split('.')[0], "yyyyMMdd'T'HHmmss'Z'", $null,
                [Globalization.DateTimeStyles]::AdjustToUniversal -bor [Globalization.DateTimeStyles]::AssumeUniversal)
            $time | Should -BeGreaterOrEqual $started.AddTicks(-($started.Ticks % [TimeSpan]::TicksPerSecond))
            $time | Should -BeLessOrEqual ([DateTime]::UtcNow)
        }
        (Get-ChildItem $out -Force).Count | Should -Be 2
    }

    It 'defect 11: several inputs onto one file: the second fails by name and the first is kept' {
        $out = Join-Path (New-Destination) 'one.kdump'
        $results = @($elf, $elf | Convert-Vmcore -Destination $out -ErrorAction SilentlyContinue -ErrorVariable failures)
        $results.Count | Should -Be 1
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'DumpDestinationReused,VmDebug.Commands.ConvertVmcoreCommand'
        $failures[0].TargetObject | Should -Be $out
        $out | Should -Exist
    }

    It 'defect 12: -Format neither completes nor accepts WinDmp' {
        $line = "Convert-Vmcore -Path x -Destination y -Format "
        (TabExpansion2 $line $line.Length).CompletionMatches.CompletionText | Should -Not -Contain 'WinDmp'
        (TabExpansion2 $line $line.Length).CompletionMatches.CompletionText | Should -Contain 'KdumpZstd'
        { Convert-Vmcore -Path $elf -Destination (New-Destination) -Format WinDmp -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,VmDebug.Commands.ConvertVmcoreCommand'
    }

    It 'defect 14: an existing file is refused naming -Force, never --force or a temporary file' {
        $out = Join-Path (New-Destination) 'taken.kdump'
        Set-Content -LiteralPath $out -Value 'keep'
        Convert-Vmcore -Path $elf -Destination $out -ErrorAction SilentlyContinue -ErrorVariable failures
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'DumpFileExists,VmDebug.Commands.ConvertVmcoreCommand'
        "$($failures[0])" | Should -BeLike "*Use -Force to replace it."
        "$($failures[0])" | Should -Not -Match '--force|\.partial'
        $failures[0].ErrorDetails.RecommendedAction | Should -Be 'Use -Force to replace it.'
        Get-Content -LiteralPath $out | Should -Be 'keep'
        (Convert-Vmcore -Path $elf -Destination $out -Force).Path | Should -Be $out
    }

    It 'defect 14: a full disk is told under the destination''s name, never a temporary one, and leaves nothing' {
        if ((id -u) -ne '0') { Set-ItResult -Skipped -Because 'mounting a small tmpfs needs root; CI runs as root'; return }
        $small = New-Destination
        & mount -t tmpfs -o size=2m vmdebug-test $small
        $LASTEXITCODE | Should -Be 0
        try {
            $out = Join-Path $small 'full.elf'
            Convert-Vmcore -Path $elf -Destination $out -Format Elf -ErrorAction SilentlyContinue -ErrorVariable failures
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -Be 'DumpWriteFailed,VmDebug.Commands.ConvertVmcoreCommand'
            $failures[0].CategoryInfo.Category | Should -Be 'WriteError'
            $failures[0].TargetObject | Should -Be $out
            "$($failures[0])" | Should -Be "Writing '$out' failed: No space left on device; nothing was left behind."
            @(Get-ChildItem -Force $small).Count | Should -Be 0
        }
        finally { & umount -l $small }
    }

    It 'binds -LiteralPath from piped files (PSPath) and takes names with wildcard characters literally' {
        $inputs = New-Destination
        $odd = Join-Path $inputs 'vm[1].elf'
        New-Item -ItemType HardLink -Path $odd -Target $elf | Out-Null
        $out = New-Destination
        (Get-Item -LiteralPath $odd | Convert-Vmcore -Destination $out).Target | Should -Be $odd
        (Convert-Vmcore -LiteralPath $odd -Destination (Join-Path $out 'literal.kdump')).Target | Should -Be $odd
        (Convert-Vmcore -LP $odd -Destination (Join-Path $out 'alias.kdump')).Target | Should -Be $odd
        ([pscustomobject]@{ Path = $elf } | Convert-Vmcore -Destination (Join-Path $out 'byname.kdump')).Target | Should -Be $elf
    }

    It '-WhatIf creates nothing in the destination' {
        $out = New-Destination
        Convert-Vmcore -Path $elf -Destination $out -WhatIf | Should -BeNullOrEmpty
        Convert-Vmcore -Path $elf -Destination (Join-Path $out 'x.kdump') -WhatIf | Should -BeNullOrEmpty
        @(Get-ChildItem $out -Force).Count | Should -Be 0
    }

    It 'defect 8: the view at <Width> columns keeps every header on one line' -ForEach @(@{ Width = 80 }, @{ Width = 120 }) {
        $result = Convert-Vmcore -Path $elf -Destination (New-Destination) -Format Elf
        $lines = ($result | Out-String -Width $Width) -split "`n" | Where-Object { $_.Trim() }
        $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual $Width }
        $lines[0] | Should -Match '^Name\s+Format\s+Size\s+GuestRam\s+Duration$'
        $lines[2] | Should -Match "^$([regex]::Escape((Split-Path -Leaf $result.Path)))\s+Elf\s+[\d,.]+ MiB\s+256 MiB\s+[\d.]+ s$"
    }

    It 'works under Set-StrictMode -Version Latest' {
        $out = New-Destination
        & {
            Set-StrictMode -Version Latest
            $result = Convert-Vmcore -Path $elf -Destination $out -Format KdumpZstd
            $result.Format | Should -Be 'KdumpZstd'
            $result | Format-Table | Out-String | Should -Match 'KdumpZstd'
            $result | Format-List * | Out-String | Should -Match 'KernelRelease'
        }
    }
}

# Issue 12 (owned by i12): the review's hostile dumps and destinations that are not regular files.
Describe 'Convert-Vmcore on hostile input' {
    BeforeAll {
        $hostile = Join-Path (Get-VmDebugRepoRoot) 'tests' 'VmDebug.Tests' 'Support' 'TestData' 'hostile'
        $dir = New-TestDirectory 'vmdebug-hostile-'
    }

    It 'refuses a hostile dump with one typed error naming it' {
        $source = Join-Path $hostile 'flat-12KiB-claims-2GiB-bitmaps.flat'
        $out = Join-Path $dir 'from-flat.elf'
        $errors = @()
        Convert-Vmcore -Path $source -Destination $out -Format Elf -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'VmcoreFormatInvalid*'
        $errors[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $errors[0].TargetObject | Should -Be $source
        Test-Path -LiteralPath $out | Should -BeFalse
    }

    It 'writes a small correct file for a dump claiming 16 TiB it does not hold' {
        $out = Join-Path $dir 'memsz.elf'
        $result = Convert-Vmcore -Path (Join-Path $hostile 'elf-8KiB-memsz-16TiB.elf') -Destination $out -Format Elf -WarningAction SilentlyContinue
        $result.GuestRamBytes | Should -Be 4096
        (Get-Item -LiteralPath $out).Length | Should -BeLessThan 65536
    }

    It 'refuses a FIFO and a symbolic link even with -Force, and leaves them as they were' {
        $source = Join-Path $hostile 'elf-8KiB-memsz-16TiB.elf'
        $fifo = Join-Path $dir 'fifo'
        & mkfifo $fifo
        $victim = Join-Path $dir 'victim'
        Set-Content -LiteralPath $victim -Value 'keep me'
        $link = Join-Path $dir 'link'
        New-Item -ItemType SymbolicLink -Path $link -Target $victim | Out-Null
        foreach ($destination in $fifo, $link) {
            $errors = @()
            Convert-Vmcore -Path $source -Destination $destination -Format Elf -Force -ErrorVariable errors -ErrorAction SilentlyContinue
            $errors.Count | Should -Be 1
            $errors[0].FullyQualifiedErrorId | Should -BeLike 'DumpPathNotRegularFile*'
            $errors[0].TargetObject | Should -Be $destination
        }
        (Get-Item -LiteralPath $fifo).UnixFileMode | Should -Not -BeNullOrEmpty
        (Get-Item -LiteralPath $link).LinkTarget | Should -Be $victim
        Get-Content -LiteralPath $victim | Should -Be 'keep me'
        @(Get-ChildItem -LiteralPath $dir -Force -Filter '.*').Count | Should -Be 0
    }
}
