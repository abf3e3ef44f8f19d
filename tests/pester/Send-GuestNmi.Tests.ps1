#Requires -Version 7.4
# Send-GuestNmi against hung guests (QEMU under TCG): booted with sysctl.kernel.unknown_nmi_panic=1 and an init stuck in
# a busy loop (vmdebug.hang=1), with a pvpanic device. One over its QMP socket, one as a domain of the private libvirtd.

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-VmDebugModule
    $hungArguments = 'loglevel=6', 'sysctl.kernel.unknown_nmi_panic=1', 'vmdebug.hang=1'

    # The console shows /init's notice at level 5 once it spins (loglevel=6); before that an NMI could come too early.
    function Wait-TestHung([string] $ConsoleLog, [timespan] $Timeout = [timespan]::FromMinutes(3)) {
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        while (-not (Select-String -LiteralPath $ConsoleLog -SimpleMatch 'vmdebug: hanging in a busy loop' -Quiet -ErrorAction Ignore)) {
            if ($clock.Elapsed -gt $Timeout) { throw "the guest did not reach its busy loop within $($Timeout.TotalSeconds) s" }
            Start-Sleep -Milliseconds 250
        }
    }

    $guest = Start-TestGuest -MemoryMiB 256 -KernelArgument $hungArguments
    Wait-TestHung $guest.ConsoleLog
}

AfterAll { Remove-TestArtifacts }

Describe 'Send-GuestNmi over QMP' {
    It '-WhatIf sends nothing: the hung guest keeps running' {
        $result = Send-GuestNmi -QmpSocket $guest.QmpSocket -WhatIf
        $result | Should -BeNullOrEmpty
        Start-Sleep -Seconds 3
        Get-TestGuestStatus $guest | Should -Be 'running'
    }

    It '-Confirm:$false sends: the guest panics, and Get-GuestCrashInfo on its dump shows the NMI panic' {
        $nmi = Send-GuestNmi -QmpSocket $guest.QmpSocket -Confirm:$false -ErrorAction Stop
        $nmi | Should -BeOfType ([VmDebug.GuestNmi])
        $nmi.Channel | Should -Be 'Qmp'
        $nmi.StateBefore | Should -Be 'running'
        $nmi.QmpSocket | Should -Be $guest.QmpSocket
        $nmi.Warnings | Should -BeNullOrEmpty
        ($nmi | Out-String -Width 80) | Should -Match '\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+Qmp\s+running\s+/'

        $panic = Wait-GuestPanic -QmpSocket $guest.QmpSocket -Timeout 60 -ErrorAction Stop
        $panic.Kind | Should -Be 'Panicked'

        $dir = New-TestDirectory
        $dump = Invoke-GuestMemoryDump -QmpSocket $guest.QmpSocket -Path (Join-Path $dir 'vmcore.kdump') -Format KdumpZlib -Confirm:$false -ErrorAction Stop
        $crash = Get-GuestCrashInfo -Path $dump.Path -ErrorAction Stop
        $crash.PanicMessage | Should -Match 'NMI'
        # The peer reader's log of the same dump has the same panic line.
        $dmesg = Join-Path $dir 'dmesg.txt'
        & makedumpfile --dump-dmesg $dump.Path $dmesg 2>&1 | Out-Null
        (Get-Content -Raw -LiteralPath $dmesg) | Should -Match ([regex]::Escape("Kernel panic - not syncing: $($crash.PanicMessage)"))
    }

    It 'writes one error per bad target and still sends to the good ones' {
        $dir = New-TestDirectory
        $calm = Start-TestGuest -MemoryMiB 128
        $targets = [pscustomobject]@{ QmpSocket = (Join-Path $dir 'missing-1.sock') },
            [pscustomobject]@{ QmpSocket = $calm.QmpSocket },
            [pscustomobject]@{ QmpSocket = (Join-Path $dir 'missing-2.sock') }
        $sent = $targets | Send-GuestNmi -Confirm:$false -ErrorVariable failures -ErrorAction SilentlyContinue
        @($sent).Count | Should -Be 1
        $sent.QmpSocket | Should -Be $calm.QmpSocket
        $failures.Count | Should -Be 2
        $failures.FullyQualifiedErrorId | ForEach-Object { $_ | Should -BeLike 'QmpSocketNotFound,*' }
        $failures[0].TargetObject | Should -Be (Join-Path $dir 'missing-1.sock')
        Stop-TestGuest $calm
    }
}

Describe 'Send-GuestNmi to a QMP socket another client holds' {
    It 'is one QmpSocketBusy error naming the socket and the ways around it, and sends nothing' {
        $calm = Start-TestGuest -MemoryMiB 128
        # QEMU serves one client per QMP socket: this one holds it, as a watcher would.
        $holder = [System.Net.Sockets.Socket]::new([System.Net.Sockets.AddressFamily]::Unix, [System.Net.Sockets.SocketType]::Stream,
            [System.Net.Sockets.ProtocolType]::Unspecified)
        try {
            $holder.Connect([System.Net.Sockets.UnixDomainSocketEndPoint]::new($calm.QmpSocket))
            $buffer = [byte[]]::new(4096)
            $holder.Receive($buffer) | Should -BeGreaterThan 0 # QEMU's greeting: this client has the socket
            Send-GuestNmi -QmpSocket $calm.QmpSocket -Confirm:$false -ErrorVariable failures -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            @($failures).Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'QmpSocketBusy,*'
            $failures[0].CategoryInfo.Category | Should -Be 'ResourceBusy'
            $failures[0].TargetObject | Should -Be $calm.QmpSocket
            $failures[0].Exception.Message | Should -Match ("Another client holds the QMP socket " + [regex]::Escape($calm.QmpSocket))
            $failures[0].ErrorDetails.RecommendedAction | Should -Match '-Domain'
            $failures[0].ErrorDetails.RecommendedAction | Should -Match '-qmp unix:PATH'
            $failures[0].ErrorDetails.RecommendedAction | Should -Match 'stop Watch-GuestPanic'
        }
        finally {
            $holder.Dispose()
        }
        # Once the other client lets go, the socket serves again and the guest never got an NMI.
        Get-TestGuestStatus $calm | Should -Be 'running'
        Stop-TestGuest $calm
    }
}

Describe 'Send-GuestNmi through libvirt' {
    BeforeAll {
        $daemon = Start-TestLibvirtDaemon
        if (-not $daemon.SkipReason) {
            $guestDir = Get-TestGuestDirectory
            $domain = 'vmdebug-nmi-hung'
            $console = Join-Path (New-TestDirectory) 'console.log'
            $devices = "<serial type='file'><source path='$console'/><target port='0'/></serial><panic model='isa'/>"
            $xml = Join-Path (New-TestDirectory 'vmdebug-domain-') "$domain.xml"
            Set-Content -LiteralPath $xml -Value @"
<domain type='qemu'>
  <name>$domain</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>$guestDir/vmlinuz</kernel>
    <initrd>$guestDir/initrd.gz</initrd>
    <cmdline>console=ttyS0 panic=0 quiet $($hungArguments -join ' ')</cmdline>
  </os>
  <features><acpi/><vmcoreinfo state='on'/></features>
  <on_crash>preserve</on_crash>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator>$devices</devices>
</domain>
"@
            & virsh -q -c $daemon.Uri define $xml | Out-Null
            & virsh -q -c $daemon.Uri start $domain | Out-Null
            Wait-TestHung $console
        }
    }

    It '-WhatIf sends nothing: the domain keeps running' {
        if ($daemon.SkipReason) { Set-ItResult -Skipped -Because $daemon.SkipReason; return }
        Send-GuestNmi -Domain $domain -ConnectionUri $daemon.Uri -WhatIf | Should -BeNullOrEmpty
        Start-Sleep -Seconds 3
        (& virsh -q -c $daemon.Uri domstate $domain | Out-String).Trim() | Should -Be 'running'
    }

    It '-Confirm:$false sends: the domain becomes crashed (panicked)' {
        if ($daemon.SkipReason) { Set-ItResult -Skipped -Because $daemon.SkipReason; return }
        $nmi = Send-GuestNmi -Domain $domain -ConnectionUri $daemon.Uri -Confirm:$false -ErrorAction Stop
        $nmi.Channel | Should -Be 'Libvirt'
        $nmi.Domain | Should -Be $domain
        $nmi.StateBefore | Should -Be 'running'
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        do {
            Start-Sleep -Milliseconds 250
            $state = (& virsh -q -c $daemon.Uri domstate --reason $domain | Out-String).Trim()
        } until ($state -like 'crashed*' -or $clock.Elapsed.TotalSeconds -gt 60)
        $state | Should -Be 'crashed (panicked)'
    }

    It 'names an unknown domain in one error' {
        if ($daemon.SkipReason) { Set-ItResult -Skipped -Because $daemon.SkipReason; return }
        Send-GuestNmi -Domain 'no-such-domain' -ConnectionUri $daemon.Uri -Confirm:$false -ErrorVariable failures -ErrorAction SilentlyContinue |
            Should -BeNullOrEmpty
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'LibvirtDomainNotFound,*'
        $failures[0].TargetObject | Should -Be 'no-such-domain'
    }
}
