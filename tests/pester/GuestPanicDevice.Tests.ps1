#Requires -Version 7.4
# Set-GuestPanicDevice and Get-GuestPanicDevice in pwsh, against real domain XML files (the xunit suite's rich domain),
# Debian's stock qemu.conf and a domain of the private libvirtd.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-VmDebugModule
    $root = Get-VmDebugRepoRoot
    $dir = New-TestDirectory
    $conf = Join-Path $dir 'qemu.conf'
    Copy-Item (Join-Path $root 'tests' 'VmDebug.Tests' 'CrashConfiguration' 'TestData' 'debian12-qemu.conf') $conf
    $rich = Get-Content -Raw (Join-Path $root 'tests' 'VmDebug.Tests' 'CrashConfiguration' 'TestData' 'rich-domain.xml')

    # A copy of the rich domain with the given devices and features added; returns its path.
    function New-DomainFile([string] $Name, [string] $Device = '', [string] $Feature = '') {
        $path = Join-Path $dir "$Name.xml"
        $xml = $rich.Replace('<name>vmdebug-rich</name>', "<name>$Name</name>").
            Replace('<apic/>', "<apic/>$Feature").
            Replace('<emulator>/usr/bin/qemu-system-x86_64</emulator>', "<emulator>/usr/bin/qemu-system-x86_64</emulator>$Device")
        Set-Content -LiteralPath $path -Value $xml -NoNewline
        $path
    }

    $daemon = Start-TestLibvirtDaemon
    $domain = 'vmdebug-pester-panic'
    if (-not $daemon.SkipReason) {
        # ISA panic device, vmcoreinfo off, on_crash preserve: what defect 1 must leave alone.
        Register-TestDomain $daemon $domain -Features "<vmcoreinfo state='off'/>" -Devices "<panic model='isa'/>" -OnCrash preserve
    }
    $uri = $daemon.Uri
}
AfterAll {
    Stop-TestLibvirtDaemon $daemon
    Remove-TestArtifacts
}

Describe 'Set-GuestPanicDevice' {
    It 'defect 1: -OnCrash alone leaves the model and vmcoreinfo (XML file)' {
        $file = New-DomainFile 'd1-file' -Device "<panic model='pvpanic'/>" -Feature "<vmcoreinfo state='off'/>"
        $result = Set-GuestPanicDevice -XmlPath $file -OnCrash Preserve -ConfigPath $conf -Confirm:$false
        $result.OnCrash | Should -Be ([VmDebug.CrashAction]::Preserve)
        $result.PanicModel | Should -Be ([VmDebug.GuestPanicModel]::Pvpanic)
        $result.VmcoreInfo | Should -BeFalse
        $text = Get-Content -Raw $file
        $text | Should -Match "<panic model='pvpanic'/>"
        $text | Should -Match "<vmcoreinfo state='off'/>"
    }

    It 'defect 1: -OnCrash alone leaves the model and vmcoreinfo (libvirt domain)' {
        if ($daemon.SkipReason) { Set-ItResult -Skipped -Because $daemon.SkipReason; return }
        Set-GuestPanicDevice -Domain $domain -ConnectionUri $uri -OnCrash Destroy -ConfigPath $conf -Confirm:$false | Out-Null
        $read = Get-GuestPanicDevice -Domain $domain -ConnectionUri $uri -ConfigPath $conf
        $read.OnCrash | Should -Be 'Destroy'
        $read.VmcoreInfo | Should -BeFalse
        $read.PanicModel | Should -Be 'Isa'
        Set-GuestPanicDevice -Domain $domain -ConnectionUri $uri -OnCrash Preserve -ConfigPath $conf -Confirm:$false | Out-Null
    }

    It 'defect 1: -Model Auto adds a device only to a domain without one' {
        $none = New-DomainFile 'd1-none'
        (Set-GuestPanicDevice -XmlPath $none -Model Auto -ConfigPath $conf -Confirm:$false).PanicModel | Should -Be 'Isa'
        $existing = New-DomainFile 'd1-existing' -Device "<panic model='pvpanic'/>"
        $before = Get-Content -Raw $existing
        (Set-GuestPanicDevice -XmlPath $existing -Model Auto -ConfigPath $conf -Confirm:$false).PanicModel | Should -Be 'Pvpanic'
        Get-Content -Raw $existing | Should -BeExactly $before
    }

    It '-WhatIf changes no byte of the file and writes no backup' {
        $file = New-DomainFile 'whatif'
        $before = [IO.File]::ReadAllBytes($file)
        $confBefore = [IO.File]::ReadAllBytes($conf)
        Set-GuestPanicDevice -XmlPath $file -Model Isa -OnCrash CoredumpDestroy -VmcoreInfo $true -AutoDumpPath $dir -ConfigPath $conf -WhatIf |
            Should -BeNullOrEmpty
        [IO.File]::ReadAllBytes($file) | Should -Be $before
        [IO.File]::ReadAllBytes($conf) | Should -Be $confBefore
        @(Get-ChildItem $dir -Filter 'whatif.xml*').Count | Should -Be 1
    }

    It '-WhatIf leaves the libvirt domain unchanged' {
        if ($daemon.SkipReason) { Set-ItResult -Skipped -Because $daemon.SkipReason; return }
        $before = & virsh -q -c $uri dumpxml --inactive $domain | Out-String
        Set-GuestPanicDevice $domain -ConnectionUri $uri -OnCrash CoredumpRestart -VmcoreInfo $true -ConfigPath $conf -WhatIf | Should -BeNullOrEmpty
        & virsh -q -c $uri dumpxml --inactive $domain | Out-String | Should -BeExactly $before
    }

    It 'defect 2: -XmlPath results pipe into Set-GuestPanicDevice, which edits that file, not libvirt' {
        $file = New-DomainFile 'd2-pipe' -Device "<panic model='isa'/>"
        $result = Get-GuestPanicDevice -XmlPath $file -ConfigPath $conf | Set-GuestPanicDevice -OnCrash Restart -ConfigPath $conf -Confirm:$false
        $result.Path | Should -Be $file
        Get-Content -Raw $file | Should -Match '<on_crash>restart</on_crash>'
    }

    It 'defect 15: results pipe back by property name and change nothing' {
        $file = New-DomainFile 'd15-roundtrip' -Device "<panic model='hyperv'/>" -Feature "<vmcoreinfo state='on'/>"
        $before = Get-Content -Raw $file
        $result = Get-GuestPanicDevice -XmlPath $file -ConfigPath $conf | Set-GuestPanicDevice -ConfigPath $conf -Confirm:$false
        $result.Changes | Should -BeNullOrEmpty
        Get-Content -Raw $file | Should -BeExactly $before
    }

    It 'reports a model libvirt 9.0 rejects as one ErrorRecord with id, category and target' {
        if ($daemon.SkipReason) { Set-ItResult -Skipped -Because $daemon.SkipReason; return }
        Set-GuestPanicDevice -Domain $domain -ConnectionUri $uri -Model Pvpanic -ConfigPath $conf -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable failures |
            Should -BeNullOrEmpty
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'PanicModelNotSupported,VmDebug.Commands.SetGuestPanicDeviceCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $failures[0].TargetObject | Should -Be 'pvpanic'
    }
}

Describe 'Get-GuestPanicDevice' {
    It 'defect 2: files from Get-ChildItem bind to -XmlPath, not to -Domain' {
        $file = New-DomainFile 'd2-files'
        $result = Get-ChildItem -LiteralPath $file | Get-GuestPanicDevice -ConfigPath $conf
        $result.Path | Should -Be $file
        $result.Domain | Should -Be 'd2-files'
    }

    It 'defect 2: -XmlPath takes the PSPath alias' {
        $file = New-DomainFile 'd2-pspath'
        (Get-GuestPanicDevice -PSPath $file -ConfigPath $conf).Path | Should -Be $file
        (Get-Command Get-GuestPanicDevice).Parameters['XmlPath'].Aliases | Should -Contain 'PSPath'
    }

    It 'defect 2: plain names piped as strings bind -Domain' {
        if ($daemon.SkipReason) { Set-ItResult -Skipped -Because $daemon.SkipReason; return }
        ($domain | Get-GuestPanicDevice -ConnectionUri $uri -ConfigPath $conf).Domain | Should -Be $domain
    }

    It 'binds -Domain by position and by property name (Domain, and the Name alias)' {
        if ($daemon.SkipReason) { Set-ItResult -Skipped -Because $daemon.SkipReason; return }
        (Get-GuestPanicDevice $domain -ConnectionUri $uri -ConfigPath $conf).Domain | Should -Be $domain
        ([pscustomobject]@{ Domain = $domain } | Get-GuestPanicDevice -ConnectionUri $uri -ConfigPath $conf).Domain | Should -Be $domain
        ([pscustomobject]@{ Name = $domain } | Get-GuestPanicDevice -ConnectionUri $uri -ConfigPath $conf).Domain | Should -Be $domain
    }

    It 'defect 15: PanicModel and OnCrash are the enums -Model and -OnCrash take, so they filter' {
        if ($daemon.SkipReason) { Set-ItResult -Skipped -Because $daemon.SkipReason; return }
        $result = Get-GuestPanicDevice $domain -ConnectionUri $uri -ConfigPath $conf
        $result.PanicModel | Should -BeOfType ([VmDebug.GuestPanicModel])
        $result.OnCrash | Should -BeOfType ([VmDebug.CrashAction])
        $result.OnCrash | Should -Be ((Get-Command Set-GuestPanicDevice).Parameters['OnCrash'].ParameterType::Preserve)
        @($result | Where-Object OnCrash -EQ Preserve).Count | Should -Be 1
        @($result | Where-Object PanicModel -EQ Isa).Count | Should -Be 1
    }

    It 'writes one non-terminating error per missing file and still reads the others' {
        $good = New-DomainFile 'errors-good'
        $missing = Join-Path $dir 'missing.xml'
        $results = @($good, $missing, $good | ForEach-Object { [pscustomobject]@{ Path = $_ } } |
            Get-GuestPanicDevice -ConfigPath $conf -ErrorAction SilentlyContinue -ErrorVariable failures)
        $results.Count | Should -Be 2
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'DomainXmlNotFound,VmDebug.Commands.GetGuestPanicDeviceCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failures[0].TargetObject | Should -Be $missing
    }

    It 'reports an unknown domain with a stable id and the name as target' {
        if ($daemon.SkipReason) { Set-ItResult -Skipped -Because $daemon.SkipReason; return }
        { Get-GuestPanicDevice 'no-such-domain' -ConnectionUri $uri -ConfigPath $conf -ErrorAction Stop } |
            Should -Throw -ErrorId 'LibvirtDomainNotFound,VmDebug.Commands.GetGuestPanicDeviceCommand'
    }

    It 'renders its table at <Width> columns with every column on one header line' -ForEach @(@{ Width = 80 }, @{ Width = 120 }) {
        $file = New-DomainFile 'view-long-domain-name' -Device "<panic model='isa'/>"
        Set-GuestPanicDevice -XmlPath $file -OnCrash CoredumpDestroy -VmcoreInfo $true -ConfigPath $conf -Confirm:$false -WarningAction Ignore | Out-Null
        $lines = (Get-GuestPanicDevice -XmlPath $file -ConfigPath $conf -WarningAction Ignore | Out-String -Width $Width) -split "`n" | Where-Object { $_.Trim() }
        $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual $Width }
        $lines[0] | Should -Match '^Domain\s+PanicModel\s+OnCrash\s+VmcoreInfo\s+DumpCore\s+Warnings$'
        $lines[2] | Should -Match '^view-long-domain-name\s+Isa\s+CoredumpDestroy\s+True\s+\d+$'
    }

    It 'works under Set-StrictMode -Version Latest' {
        $file = New-DomainFile 'strict'
        & {
            Set-StrictMode -Version Latest
            $result = Get-GuestPanicDevice -XmlPath $file -ConfigPath $conf
            $result.Domain | Should -Be 'strict'
            $result | Format-Table | Out-String | Should -Match 'strict'
            $result | Format-List * | Out-String | Should -Match 'TakesEffectAtNextBoot'
            (Set-GuestPanicDevice -XmlPath $file -OnCrash Restart -ConfigPath $conf -Confirm:$false).OnCrash | Should -Be 'Restart'
        }
    }

    It 'completes domain names of the private libvirtd, and the enum values' {
        if ($daemon.SkipReason) { Set-ItResult -Skipped -Because $daemon.SkipReason; return }
        $line = "Get-GuestPanicDevice -ConnectionUri '$uri' -Domain vmdebug-pester-p"
        (TabExpansion2 $line $line.Length).CompletionMatches.CompletionText | Should -Be @($domain)
        $line = "Set-GuestPanicDevice -ConnectionUri '$uri' -Domain $domain -OnCrash Cored"
        (TabExpansion2 $line $line.Length).CompletionMatches.CompletionText | Should -Be @('CoredumpDestroy', 'CoredumpRestart')
    }
}
