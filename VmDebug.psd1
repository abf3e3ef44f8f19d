@{
    RootModule           = 'VmDebug.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '6f3f7e52-9b0e-4c55-8d1e-3f1d2a6b9c41'
    Author               = 'VmDebug developers'
    CompanyName          = 'VmDebug'
    Copyright            = '(c) VmDebug developers. All rights reserved.'
    Description          = 'Crash debugging of QEMU/KVM guests on Linux hosts: guest memory dumps that open in crash and makedumpfile, core-dump and panic-device configuration, and guest kernel logs as objects.'
    CompatiblePSEditions = @('Core')
    PowerShellVersion    = '7.4'
    # The engine holds the result types that VmDebug.Types.ps1xml names: it must be loaded before the types file.
    RequiredAssemblies   = @('VmDebug.Engine.dll')
    TypesToProcess       = @('VmDebug.Types.ps1xml')
    FormatsToProcess     = @('VmDebug.Format.ps1xml')
    CmdletsToExport      = @(
        'Add-VirtioTraceChannel'
        'Convert-Vmcore'
        'Disable-QemuCoreDump'
        'Enable-QemuCoreDump'
        'Get-GuestCrashInfo'
        'Get-GuestKernelLog'
        'Get-GuestMemoryUsage'
        'Get-GuestPanicDevice'
        'Get-GuestPstore'
        'Get-QemuCoreDump'
        'Get-QemuCoreDumpSetting'
        'Get-VsockKmsgStream'
        'Invoke-GuestMemoryDump'
        'Invoke-QmpCommand'
        'Receive-VirtioTrace'
        'Send-GuestNmi'
        'Set-GuestPanicDevice'
        'Set-GuestPstore'
        'Wait-GuestPanic'
        'Watch-GuestPanic'
        'Get-GuestCrash'
        'Remove-GuestCrash'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('QEMU', 'KVM', 'libvirt', 'kdump', 'vmcore', 'crash', 'Linux')
        }
    }
}
