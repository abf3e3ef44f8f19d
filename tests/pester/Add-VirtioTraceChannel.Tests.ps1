#Requires -Version 7.4
# Add-VirtioTraceChannel on domain XML files (the xunit suite's rich domain) and on a domain of the private libvirtd,
# which then boots the test guest with trace-agent: the channels work when Receive-VirtioTrace gets every CPU's pages.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $PSScriptRoot 'virtio-trace.ps1')
    Import-VmDebugModule
    $root = Get-VmDebugRepoRoot
    $dir = New-TestDirectory
    $rich = Get-Content -Raw (Join-Path $root 'tests' 'VmDebug.Tests' 'CrashConfiguration' 'TestData' 'rich-domain.xml')
    $validate = Find-TestTool 'virt-xml-validate'
    $daemon = Start-TestLibvirtDaemon
    $domain = 'vmdebug-pester-trace'
}
AfterAll {
    if ($daemon.Uri) { & virsh -q -c $daemon.Uri destroy $domain 2>$null | Out-Null }
    Stop-TestLibvirtDaemon $daemon
    Remove-TestArtifacts
}

Describe 'Add-VirtioTraceChannel' {
    It '-WhatIf shows the FIFOs and the XML diff and changes nothing' {
        $file = Join-Path $dir 'whatif.xml'
        Set-Content -LiteralPath $file -Value $rich -NoNewline
        $fifos = Join-Path $dir 'whatif-fifos'
        # -WhatIf writes to the host, not to a stream: read it from a child pwsh's standard output.
        $text = & (Get-TestPwshPath) -NoProfile -NonInteractive -Command "Import-Module '$(Get-VmDebugModulePath)'; Add-VirtioTraceChannel -XmlPath '$file' -CpuCount 2 -Directory '$fifos' -WhatIf" | Out-String
        $text | Should -Match ([regex]::Escape("Create FIFO $fifos/trace-path-cpu1.out (0600)"))
        $text | Should -Match ([regex]::Escape("+    <channel type='pipe'><source path='$fifos/agent-ctl-path'/><target type='virtio' name='agent-ctl-path'/><address type='virtio-serial' controller='0' bus='0' port='1'/></channel>"))
        Get-Content -Raw $file | Should -BeExactly $rich
        $fifos | Should -Not -Exist
    }

    It 'adds pipe channels on ports from 1 that pass virt-xml-validate, with 0600 FIFOs, once' {
        $file = Join-Path $dir 'rich.xml'
        Set-Content -LiteralPath $file -Value $rich -NoNewline
        $fifos = Join-Path $dir 'rich-fifos'
        $setup = Add-VirtioTraceChannel -XmlPath $file -CpuCount 2 -Directory $fifos -Confirm:$false
        $setup | Should -BeOfType ([VmDebug.VirtioTraceSetup])
        $setup.Channels.Name | Should -Be 'agent-ctl-path', 'trace-path-cpu0', 'trace-path-cpu1'
        $setup.Channels.Port | Should -Be 1, 2, 3
        $setup.FifosCreated.Count | Should -Be 6
        foreach ($fifo in $setup.FifosCreated) {
            $item = Get-Item -LiteralPath $fifo
            $item.UnixFileMode | Should -Be ([System.IO.UnixFileMode]'UserRead, UserWrite')
            (& stat -c %F $fifo) | Should -Be 'fifo'
        }
        if ($validate) {
            $out = & $validate $file domain 2>&1
            $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
        }
        else { Set-ItResult -Skipped -Because (Get-MissingToolReason 'virt-xml-validate') }
        $again = Add-VirtioTraceChannel -XmlPath $file -CpuCount 2 -Directory $fifos -Confirm:$false
        $again.Changes | Should -BeNullOrEmpty
        $again.FifosCreated | Should -BeNullOrEmpty
    }

    It 'refuses a FIFO directory others can write to' {
        $open = Join-Path $dir 'open'
        New-Item -ItemType Directory $open | Out-Null
        chmod 0777 $open
        { Add-VirtioTraceChannel -QemuArguments -CpuCount 1 -Directory $open -ErrorAction Stop } |
            Should -Throw -ErrorId 'VirtioTraceDirectoryWritable,VmDebug.Commands.AddVirtioTraceChannelCommand'
    }

    It 'the private libvirtd starts the domain with the channels, and every CPU''s trace arrives' {
        if ($daemon.SkipReason) { Set-ItResult -Skipped -Because $daemon.SkipReason; return }
        if ($reason = Get-VirtioTraceSkipReason) { Set-ItResult -Skipped -Because $reason; return }
        $work = New-TestDirectory 'vmdebug-trace-libvirt-'
        $initrd = New-TraceInitrd
        $console = Join-Path $work 'console.log'
        $xml = Join-Path $work "$domain.xml"
        Set-Content -LiteralPath $xml -Value @"
<domain type='qemu'>
  <name>$domain</name>
  <memory unit='MiB'>256</memory>
  <vcpu>2</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>$(Join-Path (Get-TestGuestDirectory) 'vmlinuz')</kernel>
    <initrd>$initrd</initrd>
    <cmdline>console=ttyS0 panic=0 quiet vmdebug.exec=/vmdebug-trace/start.sh</cmdline>
  </os>
  <features><acpi/></features>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='file'><source path='$console'/><target port='0'/></serial>
  </devices>
</domain>
"@
        & virsh -q -c $daemon.Uri define $xml | Out-Null
        $LASTEXITCODE | Should -Be 0
        $fifos = Join-Path $work 'fifos'
        $setup = Add-VirtioTraceChannel -Domain $domain -ConnectionUri $daemon.Uri -CpuCount 2 -Directory $fifos -Metadata -Confirm:$false
        $setup.Channels.Count | Should -Be 4
        $defined = Join-Path $work 'defined.xml'
        & virsh -q -c $daemon.Uri dumpxml --inactive $domain | Set-Content -LiteralPath $defined
        ([xml](Get-Content -Raw $defined)).domain.devices.channel | Where-Object type -EQ 'pipe' | ForEach-Object { $_.target.name } |
            Should -Be 'agent-ctl-path', 'trace-path-cpu0', 'trace-path-cpu1', 'trace-metadata'
        if ($validate) {
            $out = & $validate $defined domain 2>&1
            $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
        }

        & virsh -q -c $daemon.Uri start $domain | Out-Null
        $LASTEXITCODE | Should -Be 0
        Wait-TraceAgent $console
        $capture = Receive-VirtioTrace -Directory $setup.Directory -OutputPath (Join-Path $work 'out') -Duration 3 -ErrorAction Stop
        $capture.Cpus.Count | Should -Be 2
        $capture.Cpus | ForEach-Object { $_.Pages | Should -BeGreaterThan 0 -Because "CPU $($_.Cpu) sends through libvirt's pipe channel" }
        $capture.Events | Should -BeGreaterThan 0
        $capture.MetadataPath | Should -Not -BeNullOrEmpty
        & virsh -q -c $daemon.Uri destroy $domain | Out-Null
    }
}
