#Requires -Version 7.4
# Convert-Vmcore on the hostile dumps of issue 12 and onto destinations that are not regular files. Owned by i12.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-VmDebugModule
    $hostile = Join-Path (Get-VmDebugRepoRoot) 'tests' 'VmDebug.Tests' 'Hardening' 'TestData' 'hostile'
    $dir = New-TestDirectory
}
AfterAll { Remove-TestArtifacts }

Describe 'Convert-Vmcore' {
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
