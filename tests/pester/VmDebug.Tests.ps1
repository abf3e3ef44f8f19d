#Requires -Version 7.4
#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Pester 5 tests for hosts with pwsh: they import the built module and drive the cmdlets against a real guest.
# Run: ./build.ps1; Invoke-Pester tests/pester

BeforeAll {
    $root = Split-Path (Split-Path $PSScriptRoot)
    $module = Join-Path $root 'out' 'VmDebug' 'VmDebug.psd1'
    if (-not (Test-Path $module)) { & (Join-Path $root 'build.ps1') | Out-Null }
    Import-Module $module -Force
    $guestDir = (& (Join-Path $root 'scripts' 'build-guest.sh')) | Select-Object -Last 1

    function Start-TestGuest([switch] $Panic) {
        $dir = New-Item -ItemType Directory (Join-Path ([IO.Path]::GetTempPath()) "vmdebug-pester-$([guid]::NewGuid())")
        $append = 'console=ttyS0 panic=0 quiet' + $(if ($Panic) { ' vmdebug.panic_after=0' })
        $qemuArgs = @('-nodefaults', '-display', 'none', '-nic', 'none', '-m', '256M', '-machine', 'q35,accel=tcg',
            '-kernel', "$guestDir/vmlinuz", '-initrd', "$guestDir/initrd.gz", '-append', $append,
            '-action', 'panic=pause', '-device', 'pvpanic-pci', '-device', 'vmcoreinfo',
            '-qmp', "unix:$dir/qmp.sock,server=on,wait=off")
        $process = Start-Process qemu-system-x86_64 -ArgumentList $qemuArgs -PassThru
        while (-not (Test-Path "$dir/qmp.sock")) { Start-Sleep -Milliseconds 50 }
        [pscustomobject]@{ Process = $process; QmpSocket = "$dir/qmp.sock"; Directory = $dir }
    }
}

Describe 'Module' {
    It 'exports exactly the manifest''s cmdlets' {
        $manifest = Import-PowerShellDataFile (Join-Path (Split-Path (Split-Path $PSScriptRoot)) 'VmDebug.psd1')
        (Get-Command -Module VmDebug).Name | Sort-Object | Should -Be ($manifest.CmdletsToExport | Sort-Object)
    }

    It 'has help with examples for every cmdlet' {
        foreach ($command in Get-Command -Module VmDebug) {
            $help = Get-Help $command.Name -Full
            $help.Synopsis | Should -Not -BeNullOrEmpty
            $help.Examples.Example.Count | Should -BeGreaterThan 0
        }
    }
}

Describe 'Invoke-QmpCommand and Wait-GuestPanic against a real guest' {
    BeforeAll { $guest = Start-TestGuest -Panic }
    AfterAll {
        Stop-Process -Id $guest.Process.Id -Force -ErrorAction Ignore
        Remove-Item -Recurse -Force $guest.Directory -ErrorAction Ignore
    }

    It 'returns query-status as objects' {
        $response = Invoke-QmpCommand -QmpSocket $guest.QmpSocket -Command query-status
        $response | Should -BeOfType ([VmDebug.QmpResponse])
        $response.Return.status | Should -Not -BeNullOrEmpty
    }

    It 'returns the panic event' {
        $panic = Wait-GuestPanic -QmpSocket $guest.QmpSocket -Timeout 90
        $panic.Kind | Should -Be 'Panicked'
        $panic.Action | Should -Be 'pause'
    }

    It 'reports a QMP error as an ErrorRecord with a stable id' {
        { Invoke-QmpCommand -QmpSocket $guest.QmpSocket -Command no-such-command -ErrorAction Stop } |
            Should -Throw -ErrorId 'QmpCommandFailed*'
    }

    It 'honours -WhatIf' {
        Invoke-QmpCommand -QmpSocket $guest.QmpSocket -Command stop -WhatIf | Should -BeNullOrEmpty
    }
}

Describe 'Get-VsockKmsgStream against a real guest' {
    BeforeAll {
        function Start-KmsgGuest {
            $dir = New-Item -ItemType Directory (Join-Path ([IO.Path]::GetTempPath()) "vmdebug-pester-$([guid]::NewGuid())")
            $qemuArgs = @('-nodefaults', '-display', 'none', '-nic', 'none', '-m', '256M', '-machine', 'q35,accel=tcg',
                '-kernel', "$guestDir/vmlinuz", '-initrd', "$guestDir/initrd.gz",
                '-append', 'console=ttyS0 quiet vmdebug.kmsg_port=org.vmdebug.kmsg vmdebug.markers=3 vmdebug.marker_level=3',
                '-device', 'virtio-serial-pci', '-chardev', "socket,id=kmsg,path=$dir/kmsg.sock,server=on,wait=off",
                '-device', 'virtserialport,chardev=kmsg,name=org.vmdebug.kmsg')
            $process = Start-Process qemu-system-x86_64 -ArgumentList $qemuArgs -PassThru
            while (-not (Test-Path "$dir/kmsg.sock")) { Start-Sleep -Milliseconds 50 }
            [pscustomobject]@{ Process = $process; KmsgSocket = "$dir/kmsg.sock"; Directory = $dir }
        }
    }
    BeforeEach { $guest = $null }
    AfterEach {
        if ($guest) {
            Stop-Process -Id $guest.Process.Id -Force -ErrorAction Ignore
            Remove-Item -Recurse -Force $guest.Directory -ErrorAction Ignore
        }
    }

    It 'streams the guest''s records from sequence 0 and stops at the first marker' {
        $guest = Start-KmsgGuest
        # Select-Object -First stops the stream early: the cmdlet must end and close its socket.
        $records = Get-VsockKmsgStream -ChardevSocket $guest.KmsgSocket -Timeout 120 |
            Where-Object { $_.Sequence -eq 0 -or $_.Message -eq 'vmdebug marker 1' } | Select-Object -First 2
        $records[0] | Should -BeOfType ([VmDebug.KmsgRecord])
        $records[0].Sequence | Should -Be 0
        $records[0].Message | Should -BeLike 'Linux version *'
        $records[1].Level | Should -Be 'Err'
    }

    It 'ends after -Count records and formats them without control characters' {
        $guest = Start-KmsgGuest
        $records = @(Get-VsockKmsgStream -ChardevSocket $guest.KmsgSocket -Count 5)
        $records.Count | Should -Be 5
        ($records | Format-Table | Out-String) | Should -Not -Match '\x1b'
    }

    It 'reports a libvirt connection failure with a stable id' -Skip:(-not (Test-Path /usr/lib/x86_64-linux-gnu/libvirt.so.0)) {
        { Get-VsockKmsgStream -Domain web1 -ConnectionUri 'qemu:///system?socket=/nonexistent/libvirt-sock' -ErrorAction Stop } |
            Should -Throw -ErrorId 'LibvirtConnectionFailed*'
    }
}
