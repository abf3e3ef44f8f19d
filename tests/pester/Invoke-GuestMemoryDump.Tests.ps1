#Requires -Version 7.4
# Invoke-GuestMemoryDump over QMP against real QEMU guests (TCG): a 2 GiB guest for progress and Ctrl+C, a small one
# for everything else. Binding, -WhatIf, errors, views, directory destinations, completion.

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $PSScriptRoot 'runspace.ps1')
    . (Join-Path $PSScriptRoot 'libvirt-domains.ps1')
    Import-VmDebugModule
    $big = Start-TestGuest -MemoryMiB 2048
    # The marker is logged at err level, so it reaches the console once the guest's modules (qemu_fw_cfg: VMCOREINFO) are in.
    $small = Start-TestGuest -MemoryMiB 256 -Markers 1 -MarkerLevel 3
    $clock = [Diagnostics.Stopwatch]::StartNew()
    while (-not (Select-String -LiteralPath $small.ConsoleLog -Pattern 'vmdebug marker 1' -Quiet -ErrorAction Ignore)) {
        if ($clock.Elapsed.TotalSeconds -gt 120) { throw "the small guest did not boot within 120 s: $(Get-Content -Raw $small.ConsoleLog)" }
        Start-Sleep -Milliseconds 200
    }
    $out = New-TestDirectory
    function Get-Entries([string] $Directory) { @(Get-ChildItem -LiteralPath $Directory -Force) }
}

AfterAll { Remove-TestArtifacts }

Describe 'Invoke-GuestMemoryDump' {
    Context 'parameter binding and output' {
        BeforeAll {
            $dump = Invoke-GuestMemoryDump "$out/small.kdump" -QmpSocket $small.QmpSocket -Format KdumpZlib -ErrorAction Stop
        }

        It 'binds Path by position and writes a 0600 dump' {
            $dump | Should -BeOfType ([VmDebug.GuestMemoryDump])
            $dump.Path | Should -Be "$out/small.kdump"
            (Get-Item -LiteralPath $dump.Path).UnixFileMode | Should -Be ([IO.UnixFileMode]'UserRead, UserWrite')
            $dump.KernelRelease | Should -Not -BeNullOrEmpty
        }

        It 'defect 20: the list view shows PhysBase in hex, as crash prints it' {
            $dump.PhysBase | Should -Not -BeNullOrEmpty
            $text = $dump | Format-List | Out-String
            $text | Should -Match ('PhysBase\s*:\s*0x{0:x}\b' -f $dump.PhysBase)
            $text | Should -Not -Match 'PhysBase\s*:\s*-'
        }

        It 'renders the default table at 80 and 120 columns with Format, Size and kernel' {
            foreach ($width in 80, 120) {
                $text = $dump | Out-String -Width $width
                $text | Should -Match 'KdumpZlib'
                $text | Should -Match '\d MiB'
                $text | Should -Match 'Path'
            }
            ($dump | Out-String -Width 120) | Should -Match ([regex]::Escape($dump.KernelRelease))
        }

        It 'binds QmpSocket by property name and LiteralPath through its PSPath alias' {
            $target = Join-Path $out '[literal].kdump'
            $result = [pscustomobject]@{ QmpSocket = $small.QmpSocket } | Invoke-GuestMemoryDump -PSPath $target -Format KdumpZlib -ErrorAction Stop
            $result.Path | Should -Be $target
            Test-Path -LiteralPath $target | Should -BeTrue
        }

        It 'works under Set-StrictMode -Version Latest' {
            Set-StrictMode -Version Latest
            $result = Invoke-GuestMemoryDump -QmpSocket $small.QmpSocket -Path "$out/strict.kdump" -Format KdumpZlib -ErrorAction Stop
            $result.Repairs.Count | Should -BeGreaterOrEqual 0
            $result | Format-List | Out-String | Should -Match 'PhysBase'
        }
    }

    Context 'several inputs into a directory' {
        It 'defect 11: each piped guest gets its own file, named PID-UTCTIME.kdump' {
            $dir = New-TestDirectory
            $dumps = @($small, $big | Select-Object QmpSocket | Invoke-GuestMemoryDump -Path $dir -Format KdumpZlib -ErrorAction Stop)
            $dumps.Count | Should -Be 2
            $names = @(Get-Entries $dir | ForEach-Object Name)
            $names.Count | Should -Be 2
            [IO.Path]::GetFileName($dumps[0].Path) | Should -Match ('^{0}-\d{{8}}T\d{{6}}Z\.kdump$' -f $small.Id)
            [IO.Path]::GetFileName($dumps[1].Path) | Should -Match ('^{0}-\d{{8}}T\d{{6}}Z\.kdump$' -f $big.Id)
            $dumps.Path | ForEach-Object { Test-Path -LiteralPath $_ | Should -BeTrue }
        }

        It 'defect 11: the same guest twice in one second gets a second name, not an error' {
            $dir = New-TestDirectory
            $dumps = @($small, $small | Select-Object QmpSocket | Invoke-GuestMemoryDump -Path $dir -Format KdumpZlib -ErrorAction Stop)
            $dumps.Count | Should -Be 2
            ($dumps.Path | Sort-Object -Unique).Count | Should -Be 2
            @(Get-Entries $dir).Count | Should -Be 2
        }
    }

    Context '-WhatIf and errors' {
        It '-WhatIf writes nothing and leaves the guest running' {
            $dir = New-TestDirectory
            Invoke-GuestMemoryDump -QmpSocket $small.QmpSocket -Path "$dir/whatif.kdump" -Format KdumpZlib -WhatIf | Should -BeNullOrEmpty
            Get-Entries $dir | Should -BeNullOrEmpty
            Get-TestGuestStatus $small | Should -Be 'running'
        }

        It 'an existing file is one non-terminating error, DumpFileExists, and is left untouched' {
            $existing = Join-Path $out 'existing.kdump'
            Set-Content -LiteralPath $existing -Value 'keep me'
            Invoke-GuestMemoryDump -QmpSocket $small.QmpSocket -Path $existing -Format KdumpZlib -ErrorVariable problem -ErrorAction SilentlyContinue |
                Should -BeNullOrEmpty
            $problem.Count | Should -Be 1
            $problem[0].FullyQualifiedErrorId | Should -Be 'DumpFileExists,VmDebug.Commands.InvokeGuestMemoryDumpCommand'
            $problem[0].CategoryInfo.Category | Should -Be 'ResourceExists'
            $problem[0].TargetObject | Should -Be $existing
            Get-Content -LiteralPath $existing | Should -Be 'keep me'
        }

        It 'one missing socket among several inputs is one error; the other guest is dumped' {
            $dir = New-TestDirectory
            $missing = Join-Path $dir 'missing.sock'
            $dumps = @([pscustomobject]@{ QmpSocket = $missing }, [pscustomobject]@{ QmpSocket = $small.QmpSocket } |
                Invoke-GuestMemoryDump -Path $dir -Format KdumpZlib -ErrorVariable problem -ErrorAction SilentlyContinue)
            $dumps.Count | Should -Be 1
            $problem.Count | Should -Be 1
            $problem[0].TargetObject | Should -Be $missing
            $problem[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            @(Get-Entries $dir).Count | Should -Be 1
        }
    }

    Context 'a 2 GiB guest' {
        BeforeEach { $ps = New-TestPowerShell }
        AfterEach { Remove-TestPowerShell $ps }

        It 'reports at least 3 progress records with rising PercentComplete, then Completed' {
            $null = $ps.AddCommand('Invoke-GuestMemoryDump').AddParameter('QmpSocket', $big.QmpSocket).
                AddParameter('Path', "$out/progress.kdump").AddParameter('Format', 'KdumpZlib')
            $dump = $ps.Invoke()
            $ps.HadErrors | Should -BeFalse
            $dump[0].GuestRamBytes | Should -BeGreaterOrEqual 2GB
            $records = @($ps.Streams.Progress)
            $percents = @($records | Where-Object { $_.RecordType -eq 'Processing' -and $_.PercentComplete -ge 0 } | ForEach-Object PercentComplete)
            $rising = @($percents | Select-Object -Unique)
            $rising.Count | Should -BeGreaterOrEqual 3 -Because "progress seen: $($percents -join ', ')"
            for ($i = 1; $i -lt $percents.Count; $i++) { $percents[$i] | Should -BeGreaterOrEqual $percents[$i - 1] }
            $records[-1].RecordType | Should -Be 'Completed'
        }

        It 'defect 17: Ctrl+C returns within 1 s, leaves no file, warns that the pipe was closed; QEMU ends its dump and the guest runs again at once' {
            $dir = New-TestDirectory
            $null = $ps.AddCommand('Invoke-GuestMemoryDump').AddParameter('QmpSocket', $big.QmpSocket).
                AddParameter('Path', "$dir/cancelled.zst").AddParameter('Format', 'KdumpZstd').AddParameter('DumpLevel', 31)
            $writing = { param($p) @($p.Streams.Progress | Where-Object PercentComplete -ge 1).Count -gt 0 }
            $stop = Stop-TestPowerShell $ps -Until $writing -After ([timespan]::FromSeconds(60))
            $stop.TotalSeconds | Should -BeLessThan 1
            Get-Entries $dir | Should -BeNullOrEmpty
            $warning = ($ps.Streams.Warning | Out-String)
            $warning | Should -Match 'closed the pipe'
            $warning | Should -Match 'resumes the guest'
            # QEMU's next write into the closed pipe fails: it does not write the rest of 2 GiB first.
            Wait-TestGuestStatus $big 'running' -Timeout ([timespan]::FromSeconds(20)) | Should -Be 'running'
        }
    }

    Context 'tab completion' {
        It '-Format completes the dump formats' {
            $line = 'Invoke-GuestMemoryDump -Format Kdump'
            $names = Get-TestCompletion $line
            $names | Should -Contain 'KdumpZlib'
            $names | Should -Contain 'KdumpLzo'
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
            Get-TestCompletion "Invoke-GuestMemoryDump -Path x.elf -ConnectionUri '$($daemon.Uri)' -Domain we" | Should -Be 'web1', 'web2'
            Get-TestCompletion "Invoke-GuestMemoryDump -Path x.elf -ConnectionUri '$($daemon.Uri)' -Domain " | Should -Be 'db1', 'web1', 'web2'
        }
    }
}
