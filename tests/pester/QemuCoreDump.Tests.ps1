#Requires -Version 7.4
# Enable-QemuCoreDump, Disable-QemuCoreDump and Get-QemuCoreDumpSetting in pwsh, on copies of Debian's stock
# qemu.conf, domain XML files and a domain of the private libvirtd. No test touches the host's own libvirt.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-VmDebugModule
    $root = Get-VmDebugRepoRoot
    $dir = New-TestDirectory
    $stock = Join-Path $root 'tests' 'VmDebug.Tests' 'CrashConfiguration' 'TestData' 'debian12-qemu.conf'
    $rich = Join-Path $root 'tests' 'VmDebug.Tests' 'CrashConfiguration' 'TestData' 'rich-domain.xml'

    function New-ConfCopy([string] $Name) {
        $path = Join-Path $dir "$Name.conf"
        Copy-Item -LiteralPath $stock $path
        $path
    }

    # A URI whose socket does not exist: a local daemon that is not running.
    $downUri = "qemu:///system?socket=$dir/not-running-sock"

    $daemon = Start-TestLibvirtDaemon
    $domain = 'vmdebug-pester-cores'
    if (-not $daemon.SkipReason) { Register-TestDomain $daemon $domain }
    $uri = $daemon.Uri
}
AfterAll {
    Stop-TestLibvirtDaemon $daemon
    Remove-TestArtifacts
}

Describe 'Enable-QemuCoreDump and Disable-QemuCoreDump' {
    It 'enables and disables core dumps in a qemu.conf, keeping a backup' {
        $conf = New-ConfCopy 'cycle'
        $enabled = Enable-QemuCoreDump -ConfigPath $conf -IncludeGuestMemory -Confirm:$false
        $enabled | Should -BeOfType ([VmDebug.QemuCoreDumpSetting])
        $enabled.MaxCore | Should -Be 'unlimited'
        $enabled.IncludeGuestMemory | Should -BeTrue
        Get-Content -Raw $conf | Should -Match '(?m)^max_core = "unlimited"$'
        $enabled.BackupPath | Should -Exist
        [IO.File]::ReadAllBytes($enabled.BackupPath) | Should -Be ([IO.File]::ReadAllBytes($stock))

        $disabled = Disable-QemuCoreDump -ConfigPath $conf -Confirm:$false
        $disabled.MaxCore | Should -Be '0'
        $disabled.IncludeGuestMemory | Should -BeFalse
    }

    It '-WhatIf changes no byte of qemu.conf or the XML file, and writes no backup' {
        $conf = New-ConfCopy 'whatif'
        $xml = Join-Path $dir 'whatif.xml'
        Copy-Item -LiteralPath $rich $xml
        $before = [IO.File]::ReadAllBytes($conf)
        $xmlBefore = [IO.File]::ReadAllBytes($xml)
        Enable-QemuCoreDump -ConfigPath $conf -MaxCoreSize 4GiB -IncludeGuestMemory -XmlPath $xml -WhatIf | Should -BeNullOrEmpty
        Disable-QemuCoreDump -ConfigPath $conf -XmlPath $xml -WhatIf | Should -BeNullOrEmpty
        [IO.File]::ReadAllBytes($conf) | Should -Be $before
        [IO.File]::ReadAllBytes($xml) | Should -Be $xmlBefore
        @(Get-ChildItem $dir -Filter 'whatif*').Count | Should -Be 2
    }

    It 'binds -XmlPath from files piped by Get-ChildItem (PSPath)' {
        $conf = New-ConfCopy 'piped'
        $xml = Join-Path $dir 'piped.xml'
        Copy-Item -LiteralPath $rich $xml
        $result = Get-ChildItem -LiteralPath $xml | Enable-QemuCoreDump -ConfigPath $conf -Confirm:$false
        $result.ConfigPath | Should -Be $conf
        Get-Content -Raw $xml | Should -Match "dumpCore='on'"
    }

    It 'sets dumpCore on a libvirt domain given by name, by property name and completes its name' {
        if ($daemon.SkipReason) { Set-ItResult -Skipped -Because $daemon.SkipReason; return }
        $conf = New-ConfCopy 'domain'
        Enable-QemuCoreDump -ConfigPath $conf -Domain $domain -ConnectionUri $uri -Confirm:$false | Out-Null
        (Get-GuestPanicDevice $domain -ConnectionUri $uri -ConfigPath $conf).DumpCore | Should -Be 'on'
        [pscustomobject]@{ Domain = $domain } | Disable-QemuCoreDump -ConfigPath $conf -ConnectionUri $uri -Confirm:$false | Out-Null
        (Get-GuestPanicDevice $domain -ConnectionUri $uri -ConfigPath $conf).DumpCore | Should -BeNullOrEmpty

        $line = "Enable-QemuCoreDump -ConnectionUri '$uri' -Domain vmdebug-pester-c"
        (TabExpansion2 $line $line.Length).CompletionMatches.CompletionText | Should -Be @($domain)
    }

    It 'defect 6: -RestartDaemon with the daemon not running says it is not running, and changes the file' {
        $conf = New-ConfCopy 'down'
        $result = Enable-QemuCoreDump -ConfigPath $conf -ConnectionUri $downUri -RestartDaemon -Confirm:$false -WarningVariable warnings -WarningAction SilentlyContinue
        $result.MaxCore | Should -Be 'unlimited'
        $warnings.Message | Should -Contain "The libvirt daemon of $downUri is not running (no socket $dir/not-running-sock): there is nothing to restart, and it reads the new settings when it starts."
        # Under -WhatIf too there is no error and nothing is written.
        $before = [IO.File]::ReadAllBytes($conf)
        Disable-QemuCoreDump -ConfigPath $conf -ConnectionUri $downUri -RestartDaemon -WhatIf -ErrorVariable failures
        $failures | Should -BeNullOrEmpty
        [IO.File]::ReadAllBytes($conf) | Should -Be $before
    }

    It 'refuses a restart through a remote URI with the URI as subject and target' {
        $conf = New-ConfCopy 'remote'
        $remote = 'qemu+ssh://elsewhere.invalid/system'
        Enable-QemuCoreDump -ConfigPath $conf -ConnectionUri $remote -RestartDaemon -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable failures
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'LibvirtDaemonNotLocal,VmDebug.Commands.EnableQemuCoreDumpCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $failures[0].TargetObject | Should -Be $remote
        $failures[0].Exception.Message | Should -BeLike "$remote does not reach *"
    }

    It 'reports a missing qemu.conf and a bad size as non-terminating errors with id and target' {
        $missing = Join-Path $dir 'missing.conf'
        Enable-QemuCoreDump -ConfigPath $missing -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable missingError
        $after = 'still running'
        $after | Should -Be 'still running'
        $missingError.Count | Should -Be 1
        $missingError[0].FullyQualifiedErrorId | Should -Be 'QemuConfNotFound,VmDebug.Commands.EnableQemuCoreDumpCommand'
        $missingError[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $missingError[0].TargetObject | Should -Be $missing

        Enable-QemuCoreDump -ConfigPath (New-ConfCopy 'badsize') -MaxCoreSize lots -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable sizeError
        $sizeError.Count | Should -Be 1
        $sizeError[0].FullyQualifiedErrorId | Should -Be 'SizeInvalid,VmDebug.Commands.EnableQemuCoreDumpCommand'
        $sizeError[0].TargetObject | Should -Be 'lots'
    }
}

Describe 'Get-QemuCoreDumpSetting' {
    It 'reads a qemu.conf given by position' {
        $conf = New-ConfCopy 'get'
        $setting = Get-QemuCoreDumpSetting $conf -WarningAction SilentlyContinue
        $setting.ConfigPath | Should -Be $conf
        $setting.MaxCore | Should -Be '0'
        $setting.Warnings | Should -Not -BeNullOrEmpty
    }

    It 'renders its list at <Width> columns with the important values readable' -ForEach @(@{ Width = 80 }, @{ Width = 120 }) {
        $conf = New-ConfCopy "view$Width"
        $text = Enable-QemuCoreDump -ConfigPath $conf -Confirm:$false | Out-String -Width $Width
        ($text -split "`n") | ForEach-Object { $_.TrimEnd().Length | Should -BeLessOrEqual $Width }
        $text | Should -Match '(?m)^MaxCore\s+: unlimited\s*$'
        $text | Should -Match "(?m)^ConfigPath\s+: $([regex]::Escape($conf))\s*$"
        $text | Should -Match '(?m)^RunsAs\s+: libvirt-qemu:libvirt-qemu\s*$'
    }

    It 'works under Set-StrictMode -Version Latest' {
        $conf = New-ConfCopy 'strict'
        & {
            Set-StrictMode -Version Latest
            $setting = Get-QemuCoreDumpSetting -ConfigPath $conf -WarningAction SilentlyContinue
            $setting.MaxCore | Should -Be '0'
            $setting | Format-List | Out-String | Should -Match 'MaxCore'
            (Enable-QemuCoreDump -ConfigPath $conf -Confirm:$false).MaxCore | Should -Be 'unlimited'
        }
    }

    It 'names the unreachable daemon in a warning, not an error' {
        $conf = New-ConfCopy 'unreachable'
        $setting = Get-QemuCoreDumpSetting -ConfigPath $conf -ConnectionUri $downUri -WarningVariable warnings -WarningAction SilentlyContinue -ErrorVariable failures
        $setting | Should -Not -BeNullOrEmpty
        $failures | Should -BeNullOrEmpty
        ($warnings.Message -join "`n") | Should -Match ([regex]::Escape("libvirt at $downUri could not be asked"))
    }
}
