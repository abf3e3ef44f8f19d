#Requires -Version 7.4
# Wait-GuestPanic against a real guest that panics (pvpanic, panic action pause). Owned by i9c for defect 16.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-VmDebugModule
    $guest = Start-TestGuest -PanicAfter 0
}
AfterAll { Remove-TestArtifacts }

Describe 'Wait-GuestPanic' {
    It 'returns the panic event' {
        $panic = Wait-GuestPanic -QmpSocket $guest.QmpSocket -Timeout 120
        $panic | Should -BeOfType ([VmDebug.GuestPanicEvent])
        $panic.Kind | Should -Be 'Panicked'
        $panic.Action | Should -Be 'pause'
        Get-TestGuestStatus $guest | Should -Be 'guest-panicked'
    }
}
