#Requires -Version 7.4
# Get-VsockKmsgStream against a real guest whose /dev/kmsg is copied to a virtio-serial port (vsock cannot run end to
# end on these machines). Owned by i9c for defects 7, 12, 19, 20.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-VmDebugModule
}
AfterAll { Remove-TestArtifacts }

Describe 'Get-VsockKmsgStream' {
    Context 'from a guest''s virtio-serial port' {
        # A guest per test: the guest's copy of /dev/kmsg ends when its first reader disconnects.
        BeforeEach { $guest = Start-TestGuest -KmsgPort -Markers 3 -MarkerLevel 3 }
        AfterEach { Stop-TestGuest $guest }

        It 'streams the guest''s records from sequence 0 and stops at the first marker' {
            # Select-Object -First stops the stream early: the cmdlet must end and close its socket.
            $records = Get-VsockKmsgStream -ChardevSocket $guest.KmsgSocket -Timeout 120 |
                Where-Object { $_.Sequence -eq 0 -or $_.Message -eq 'vmdebug marker 1' } | Select-Object -First 2
            $records[0] | Should -BeOfType ([VmDebug.KmsgRecord])
            $records[0].Sequence | Should -Be 0
            $records[0].Message | Should -BeLike 'Linux version *'
            $records[1].Level | Should -Be 'Err'
        }

        It 'ends after -Count records and formats them without control characters' {
            $records = @(Get-VsockKmsgStream -ChardevSocket $guest.KmsgSocket -Count 5 -Timeout 120)
            $records.Count | Should -Be 5
            ($records | Format-Table | Out-String) | Should -Not -Match '[\x00-\x08\x0b-\x1f\x7f]'
        }
    }

    It 'reports a libvirt connection failure with a stable id' {
        { Get-VsockKmsgStream -Domain web1 -ConnectionUri 'qemu:///system?socket=/nonexistent/libvirt-sock' -ErrorAction Stop } |
            Should -Throw -ErrorId 'LibvirtConnectionFailed*'
    }
}
