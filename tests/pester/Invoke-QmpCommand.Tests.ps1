#Requires -Version 7.4
# Invoke-QmpCommand against a real guest (QEMU under TCG). Owned by i9c for defects 12 and 18; started on the harness.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-VmDebugModule
    $guest = Start-TestGuest
}
AfterAll { Remove-TestArtifacts }

Describe 'Invoke-QmpCommand' {
    It 'returns query-status as objects' {
        $response = Invoke-QmpCommand -QmpSocket $guest.QmpSocket -Command query-status
        $response | Should -BeOfType ([VmDebug.QmpResponse])
        $response.Return.status | Should -Be 'running'
    }

    It 'reports a QMP error as an ErrorRecord with a stable id' {
        { Invoke-QmpCommand -QmpSocket $guest.QmpSocket -Command no-such-command -ErrorAction Stop } |
            Should -Throw -ErrorId 'QmpCommandFailed*'
    }

    It 'honours -WhatIf: the guest keeps running' {
        Invoke-QmpCommand -QmpSocket $guest.QmpSocket -Command stop -WhatIf | Should -BeNullOrEmpty
        Get-TestGuestStatus $guest | Should -Be 'running'
    }
}
