# Guests and runspaces for the dump, QMP, panic and kmsg tests. Dot-source from BeforeAll.
# VMDEBUG_TEST_MODULE points the tests at another build (for example main's, to see a defect test fail there).

$script:RepoRoot = Split-Path (Split-Path $PSScriptRoot)
$script:ModulePath = if ($env:VMDEBUG_TEST_MODULE) { $env:VMDEBUG_TEST_MODULE } else { Join-Path $RepoRoot 'out' 'VmDebug' 'VmDebug.psd1' }
if (-not (Test-Path $ModulePath)) { & (Join-Path $RepoRoot 'build.ps1') | Out-Null }
Import-Module $ModulePath -Force
$script:GuestImage = (& (Join-Path $RepoRoot 'scripts' 'build-guest.sh')) | Select-Object -Last 1

function New-TestDirectory {
    New-Item -ItemType Directory (Join-Path ([IO.Path]::GetTempPath()) "vmdebug-pester-$([guid]::NewGuid().ToString('N').Substring(0, 12))")
}

<#
.SYNOPSIS
    Boots the test guest under QEMU TCG with a QMP socket; optionally a kmsg virtio-serial port, a panic, markers.
    Waits for the QMP socket, failing at once if QEMU exits instead.
#>
function Start-TestGuest {
    param([int] $MemoryMiB = 256, [switch] $Panic, [switch] $Kmsg, [int] $Markers = 0)
    $dir = New-TestDirectory
    $append = "console=ttyS0 panic=0 quiet vmdebug.markers=$Markers"
    if ($Panic) { $append += ' vmdebug.panic_after=0' }
    $qemuArgs = @('-nodefaults', '-display', 'none', '-nic', 'none', '-m', "${MemoryMiB}M", '-machine', 'q35,accel=tcg',
        '-kernel', "$GuestImage/vmlinuz", '-initrd', "$GuestImage/initrd.gz",
        '-action', 'panic=pause', '-device', 'pvpanic-pci', '-device', 'vmcoreinfo',
        '-qmp', "unix:$dir/qmp.sock,server=on,wait=off")
    if ($Kmsg) {
        $append += ' vmdebug.kmsg_port=org.vmdebug.kmsg'
        $qemuArgs += '-device', 'virtio-serial-pci', '-chardev', "socket,id=kmsg,path=$dir/kmsg.sock,server=on,wait=off",
            '-device', 'virtserialport,chardev=kmsg,name=org.vmdebug.kmsg'
    }
    $qemuArgs += '-append', "`"$append`""
    $process = Start-Process qemu-system-x86_64 -ArgumentList $qemuArgs -PassThru -RedirectStandardError "$dir/qemu.err"
    $deadline = [DateTime]::UtcNow.AddSeconds(60)
    while (-not (Test-Path "$dir/qmp.sock") -or ($Kmsg -and -not (Test-Path "$dir/kmsg.sock"))) {
        if ($process.HasExited) { throw "QEMU exited with code $($process.ExitCode): $(Get-Content -Raw "$dir/qemu.err")" }
        if ([DateTime]::UtcNow -gt $deadline) { Stop-Process -Id $process.Id -Force; throw 'QEMU did not create its sockets within 60 s' }
        Start-Sleep -Milliseconds 50
    }
    [pscustomobject]@{ Process = $process; QmpSocket = "$dir/qmp.sock"; KmsgSocket = "$dir/kmsg.sock"; Directory = $dir.FullName }
}

function Stop-TestGuest {
    param($Guest)
    if ($Guest) {
        Stop-Process -Id $Guest.Process.Id -Force -ErrorAction Ignore
        $Guest.Process.WaitForExit(10000) | Out-Null
        Remove-Item -Recurse -Force $Guest.Directory -ErrorAction Ignore
    }
}

function Get-GuestStatus {
    param([string] $QmpSocket)
    (Invoke-QmpCommand -QmpSocket $QmpSocket -Command query-status).Return.status
}

<# A [powershell] with its own runspace and the module imported, for Stop() (Ctrl+C) and prompts without a host. #>
function New-TestPowerShell {
    $ps = [powershell]::Create()
    $ps.Runspace = [runspacefactory]::CreateRunspace()
    $ps.Runspace.Open()
    $null = $ps.AddCommand('Import-Module').AddParameter('Name', $ModulePath).Invoke()
    $ps.Commands.Clear()
    $ps
}

function Remove-TestPowerShell {
    param($PowerShell)
    if ($PowerShell) { $PowerShell.Runspace.Dispose(); $PowerShell.Dispose() }
}
