#Requires -Version 7.4
# Get-QemuCoreDump against a real QEMU process core: plain, truncated, and compressed in a folder laid out like
# systemd-coredump's store; its pipe into Invoke-GuestMemoryDump. Owned by i14 (issue 14; issue 9 defects 5, 8, 13).
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:noQemu = Get-MissingToolReason 'qemu-system-x86_64'
    $script:noZstd = if (-not (Find-TestTool 'zstd')) { 'zstd not installed: apt-get install zstd' }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-VmDebugModule
    $script:work = New-TestDirectory

    # One small guest with dump-guest-core=on, aborted once; every test reads its core.
    function New-QemuCore([string] $Directory) {
        $guestDir = Get-TestGuestDirectory
        $qemu = Find-TestTool 'qemu-system-x86_64'
        $start = [System.Diagnostics.ProcessStartInfo]::new('/bin/sh')
        $start.ArgumentList.Add('-c')
        $start.ArgumentList.Add('ulimit -c unlimited; exec "$@" >qemu.stdout 2>qemu.stderr </dev/null')
        $start.ArgumentList.Add('qemu')
        foreach ($a in @($qemu, '-nodefaults', '-display', 'none', '-nic', 'none', '-machine', 'q35,accel=tcg,dump-guest-core=on',
                '-m', '256', '-kernel', "$guestDir/vmlinuz", '-initrd', "$guestDir/initrd.gz", '-serial', "file:$Directory/console.log",
                '-device', 'vmcoreinfo', '-append', 'console=ttyS0 panic=0 quiet loglevel=6 vmdebug.markers=1')) {
            $start.ArgumentList.Add($a)
        }
        $start.UseShellExecute = $false
        $start.WorkingDirectory = $Directory
        $process = [System.Diagnostics.Process]::Start($start)
        try {
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            while (-not ((Test-Path "$Directory/console.log") -and (Get-Content -Raw "$Directory/console.log") -match 'vmdebug marker 1')) {
                if ($process.HasExited) { throw "QEMU exited: $(Get-Content -Raw "$Directory/qemu.stderr")" }
                if ($clock.Elapsed.TotalSeconds -gt 120) { throw 'the guest did not print its marker within 120 s' }
                Start-Sleep -Milliseconds 200
            }
            & /bin/kill -ABRT $process.Id
            if (-not $process.WaitForExit(120000)) { throw 'QEMU did not exit after SIGABRT' }
        }
        finally {
            if (-not $process.HasExited) { $process.Kill() }
        }
        $core = @("$Directory/core", "$Directory/core.$($process.Id)") | Where-Object { Test-Path -LiteralPath $_ } | Select-Object -First 1
        if (-not $core) { throw "QEMU left no core in $Directory (core_pattern: $(Get-Content /proc/sys/kernel/core_pattern))" }
        [pscustomobject]@{ Path = $core; Pid = $process.Id }
    }

    if (-not (Get-MissingToolReason 'qemu-system-x86_64')) {
        $script:core = New-QemuCore $work
        # A copy cut in half, as a full disk or a size cap leaves a core.
        $script:cut = Join-Path $work 'core.cut'
        & cp --sparse=always $core.Path $cut
        & truncate -s ([long]((Get-Item $cut).Length / 2)) $cut
        $script:vmcore = (Invoke-GuestMemoryDump -CoreFile $core.Path -Path (Join-Path $work 'plain.vmcore')).Path

        # systemd-coredump's store: core.COMM.UID.BOOTID.PID.USEC.zst, plus another program's core it must pass over.
        $script:store = New-Item -ItemType Directory (Join-Path $work 'store')
        $script:bootId = (Get-Content /proc/sys/kernel/random/boot_id).Replace('-', '')
        $script:usec = 1764577000123456
        if (Find-TestTool 'zstd') {
            $script:stored = Join-Path $store "core.qemu-system-x86.0.$bootId.$($core.Pid).$usec.zst"
            & zstd -q -1 $core.Path -o $stored
            'not a core' | Set-Content (Join-Path $store "core.bash.1000.$bootId.77.$usec.zst")
        }
    }
}

AfterAll { Remove-TestArtifacts }

Describe 'Get-QemuCoreDump' -Skip:([bool]$noQemu) {
    It 'lists a plain core with its PID, signal and guest RAM' {
        $listed = Get-QemuCoreDump -LiteralPath $core.Path -NoSystemdCoredump
        $listed | Should -BeOfType ([VmDebug.QemuProcessCore])
        $listed.Pid | Should -Be $core.Pid
        $listed.Signal | Should -Be 6
        $listed.IncludesGuestRam | Should -BeTrue
        $listed.GuestRamBytes | Should -Be 256MB
        $listed.Source | Should -Be 'File'
        $listed.Compression | Should -Be 'None'
    }

    It 'reports one error per bad path and still lists the cores found (defect 5)' {
        $nope = Join-Path $work 'nope'
        $errors = $null
        $listed = @(Get-QemuCoreDump $nope, $work -NoSystemdCoredump -ErrorVariable errors -ErrorAction SilentlyContinue)
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'CorePathNotFound,*'
        $errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $errors[0].TargetObject | Should -Be $nope
        $listed.Path | Should -Contain $core.Path
        $listed.Path | Should -Contain $cut
    }

    It 'says a named file is not a QEMU core, and that a vmcore needs Convert-Vmcore instead (defect 13)' {
        $text = Join-Path $work 'notes.txt'
        'just text' | Set-Content $text
        $errors = $null
        $listed = @(Get-QemuCoreDump $text, $vmcore, $core.Path -NoSystemdCoredump -ErrorVariable errors -ErrorAction SilentlyContinue)
        $listed.Path | Should -Be @($core.Path)
        $errors.Count | Should -Be 2
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'ProcessCoreNotACore,*'
        $errors[0].TargetObject | Should -Be $text
        $errors[1].FullyQualifiedErrorId | Should -BeLike 'ProcessCoreIsVmcore,*'
        $errors[1].TargetObject | Should -Be $vmcore
        $errors[1].ErrorDetails.RecommendedAction | Should -Match 'Convert-Vmcore'

        $errors = $null
        Invoke-GuestMemoryDump -CoreFile $vmcore -Path (Join-Path $work 'again.vmcore') -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'ProcessCoreIsVmcore,*'
        $errors[0].ErrorDetails.RecommendedAction | Should -Match 'Convert-Vmcore'
        Test-Path (Join-Path $work 'again.vmcore') | Should -BeFalse
    }

    It 'keeps Path and Problem readable at 80 columns (defect 8)' {
        $text = Get-QemuCoreDump -LiteralPath $cut -NoSystemdCoredump | Out-String -Width 80
        $lines = @($text -split "`n" | ForEach-Object TrimEnd | Where-Object { $_ })
        $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual 80 }
        $header = $lines[0]
        $pathAt = $header.IndexOf('Path')
        $problemAt = $header.IndexOf('Problem')
        $pathAt | Should -BeGreaterThan 0
        $problemAt | Should -BeGreaterThan $pathAt
        # The Path and Problem cells, read down their columns across the wrapped lines, give the whole values.
        $rows = $lines | Select-Object -Skip 2
        $pathCell = -join ($rows | ForEach-Object { if ($_.Length -gt $pathAt) { $_.Substring($pathAt, [Math]::Min($problemAt, $_.Length) - $pathAt).Trim() } })
        $problemCell = ($rows | ForEach-Object { if ($_.Length -gt $problemAt) { $_.Substring($problemAt).Trim() } }) -join ' '
        $pathCell | Should -Be $cut
        $problemCell -replace '\s' | Should -Match '^truncated:\d+of\d+bytes$'
    }

    Context 'systemd-coredump store' -Skip:([bool]$noZstd) {
        It 'lists the stored, compressed core by its file name: PID, UID, boot id, time, compression, guest RAM' {
            $listed = @(Get-QemuCoreDump -Path $store -NoSystemdCoredump)
            $listed.Count | Should -Be 1
            $listed[0].Path | Should -Be $stored
            $listed[0].Source | Should -Be 'SystemdCoredump'
            $listed[0].Pid | Should -Be $core.Pid
            $listed[0].Uid | Should -Be 0
            $listed[0].BootId | Should -Be $bootId
            $listed[0].Time | Should -Be ([DateTimeOffset]::UnixEpoch.AddTicks($usec * 10))
            $listed[0].Compression | Should -Be 'Zstd'
            $listed[0].IncludesGuestRam | Should -BeTrue
            $listed[0].Signal | Should -Be 6
        }

        It 'pipes into Invoke-GuestMemoryDump, which reads the compressed core as it reads the plain one' {
            $out = Join-Path $work 'from-store.vmcore'
            $dump = Get-QemuCoreDump -Path $store -NoSystemdCoredump | Invoke-GuestMemoryDump -Path $out
            $dump.Path | Should -Be $out
            $dump.Target | Should -Be $stored
            $dump.GuestRamBytes | Should -Be 256MB
            $dump.KernelRelease | Should -Not -BeNullOrEmpty
            (Get-FileHash $out -Algorithm SHA256).Hash | Should -Be (Get-FileHash $vmcore -Algorithm SHA256).Hash
        }
    }
}
