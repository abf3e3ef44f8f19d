#Requires -Version 7.4
# Set-GuestPstore on domain XML files: -WhatIf shows the diff and writes nothing, the edit passes virt-xml-validate,
# a panic device is warned about, and a firmware-booted domain gets the parameters to add inside the guest.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $skip = Get-MissingToolReason 'virt-xml-validate'
}
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-VmDebugModule
    $dir = New-TestDirectory
    $guestDir = Get-TestGuestDirectory
    $direct = @"
<domain type='qemu'>
  <name>vmdebug-pstore-pester</name>
  <memory unit='MiB'>1024</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>$guestDir/vmlinuz</kernel>
    <initrd>$guestDir/initrd.gz</initrd>
    <cmdline>console=ttyS0 quiet</cmdline>
  </os>
  <on_crash>preserve</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <panic model='isa'/>
  </devices>
</domain>
"@
}
AfterAll { Remove-TestArtifacts }

Describe 'Set-GuestPstore' -Skip:([bool]$skip) {
    It '-WhatIf prints the cmdline diff and leaves the file as it was' {
        $path = Join-Path $dir 'whatif.xml'
        Set-Content -LiteralPath $path -Value $direct -NoNewline
        Set-GuestPstore -XmlPath $path -WhatIf | Should -BeNullOrEmpty
        # The "What if:" text goes to the host, so a child pwsh prints it where it can be read.
        $output = & (Get-TestPwshPath) -NoProfile -NonInteractive -Command "Import-Module '$(Get-VmDebugModulePath)'; Set-GuestPstore -XmlPath '$path' -WhatIf" | Out-String
        $output | Should -Match '\+\s*<cmdline>console=ttyS0 quiet memmap=1M\$0x[0-9a-f]+ ramoops\.mem_address='
        Get-Content -LiteralPath $path -Raw | Should -Be $direct
    }

    It 'edits the command line in usable RAM, warns about the panic device, and the result validates' {
        $path = Join-Path $dir 'direct.xml'
        Set-Content -LiteralPath $path -Value $direct -NoNewline
        $warnings = $null
        $result = Set-GuestPstore -XmlPath $path -Size 2MB -Ecc 16 -WarningVariable warnings -WarningAction SilentlyContinue
        $result | Should -BeOfType ([VmDebug.PstoreConfiguration])
        $result.Changed | Should -BeTrue
        $result.AddressSource | Should -Be 'MemoryLayout'
        $result.Address | Should -BeGreaterThan 16MB
        ($result.Address + $result.Size) | Should -BeLessThan 1023MB
        $result.CommandLine | Should -BeLike "console=ttyS0 quiet memmap=2M`$0x*ramoops.mem_size=0x200000 ramoops.record_size=0x40000 ramoops.ecc=16"
        ($warnings -join "`n") | Should -Match 'panic device'
        [xml](Get-Content -LiteralPath $path -Raw) | ForEach-Object { $_.domain.os.cmdline } | Should -Be $result.CommandLine
        & (Find-TestTool 'virt-xml-validate') $path domain 2>&1 | Out-Null
        $LASTEXITCODE | Should -Be 0
        ($result | Format-Table | Out-String -Width 80) -split "`n" | Where-Object { $_.TrimEnd().Length -gt 80 } | Should -BeNullOrEmpty
    }

    It 'returns the kernel parameters to add inside a guest that boots its own bootloader' {
        $path = Join-Path $dir 'firmware.xml'
        Set-Content -LiteralPath $path -Value ($direct -replace '(?s)<kernel>.*</cmdline>', '') -NoNewline
        $before = Get-Content -LiteralPath $path -Raw
        $result = Set-GuestPstore -XmlPath $path -WarningAction SilentlyContinue
        $result.DirectKernelBoot | Should -BeFalse
        $result.Changed | Should -BeFalse
        $result.KernelParameters | Should -Match '^memmap=1M\$0x[0-9a-f]+ ramoops\.mem_address=0x[0-9a-f]+ ramoops\.mem_size=0x100000'
        Get-Content -LiteralPath $path -Raw | Should -Be $before
    }
}
