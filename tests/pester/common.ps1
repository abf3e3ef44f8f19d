# Shared helpers for the Pester suite: module import, test guests (QEMU under TCG), the private libvirtd, a private
# sshd for remoting, temporary directories. Dot-source it at the top of a test file's BeforeAll:
#     BeforeAll { . (Join-Path $PSScriptRoot 'common.ps1') }
# and, for -Skip conditions evaluated at discovery, in BeforeDiscovery as well.
# Everything started here is stopped by its PID (Stop-TestGuest, Stop-TestLibvirtDaemon, Stop-TestSshServer) in the
# file's AfterAll; Remove-TestArtifacts stops anything a file forgot.
Set-StrictMode -Version Latest

$script:VmDebugRepoRoot = Split-Path (Split-Path $PSScriptRoot)
$script:VmDebugStarted = [System.Collections.Generic.List[object]]::new()

# Takes an item off the list of things to stop; false when it is not (or no longer) there. By reference: every
# [pscustomobject] compares equal to every other under List.Remove.
function Remove-TestTrackedItem($Item) {
    for ($i = 0; $i -lt $script:VmDebugStarted.Count; $i++) {
        if ([object]::ReferenceEquals($script:VmDebugStarted[$i], $Item)) { $script:VmDebugStarted.RemoveAt($i); return $true }
    }
    $false
}

function Get-VmDebugRepoRoot { $script:VmDebugRepoRoot }

# The built module (./build.ps1 publishes it to ./out/VmDebug); VMDEBUG_MODULE overrides the manifest path.
function Get-VmDebugModulePath {
    if ($env:VMDEBUG_MODULE) { return $env:VMDEBUG_MODULE }
    Join-Path $script:VmDebugRepoRoot 'out' 'VmDebug' 'VmDebug.psd1'
}

function Import-VmDebugModule {
    $path = Get-VmDebugModulePath
    if (-not (Test-Path -LiteralPath $path)) {
        throw "The module is not built: $path is missing. Run ./build.ps1 first."
    }
    Import-Module $path -Force -ErrorAction Stop -Global
}

# Path of an executable on PATH (or in /usr/sbin, where Debian puts daemons), or $null.
function Find-TestTool([string] $Name) {
    $command = Get-Command $Name -CommandType Application -ErrorAction Ignore | Select-Object -First 1
    if ($command) { return $command.Source }
    foreach ($dir in '/usr/sbin', '/sbin', '/usr/lib/openssh') {
        if (Test-Path -LiteralPath (Join-Path $dir $Name)) { return Join-Path $dir $Name }
    }
    $null
}

# The reason a test needing these tools must skip (naming the apt package), or $null when all are present.
function Get-MissingToolReason([string[]] $Tool) {
    $packages = @{
        'qemu-system-x86_64' = 'qemu-system-x86'; 'libvirtd' = 'libvirt-daemon-system'; 'virtlogd' = 'libvirt-daemon-system'
        'sshd' = 'openssh-server'; 'ssh-keygen' = 'openssh-client'; 'ssh' = 'openssh-client'
        'makedumpfile' = 'makedumpfile'; 'crash' = 'crash'; 'readelf' = 'binutils'
    }
    $missing = @($Tool | Where-Object { -not (Find-TestTool $_) })
    if (-not $missing) { return $null }
    $install = ($missing | ForEach-Object { $packages[$_] ?? $_ } | Sort-Object -Unique) -join ' '
    "$($missing -join ', ') not installed: apt-get install $install"
}

# A fresh private temporary directory (0700), removed by Remove-TestArtifacts or Remove-TestDirectory.
function New-TestDirectory([string] $Prefix = 'vmdebug-pester-') {
    $dir = [System.IO.Directory]::CreateTempSubdirectory($Prefix).FullName
    $script:VmDebugStarted.Add([pscustomobject]@{ Kind = 'Directory'; Path = $dir })
    $dir
}

function Remove-TestDirectory([string] $Path) {
    $tracked = @($script:VmDebugStarted | Where-Object { $_.Kind -eq 'Directory' -and $_.Path -eq $Path })
    foreach ($item in $tracked) { [void] (Remove-TestTrackedItem $item) }
    if ($Path -and (Test-Path -LiteralPath $Path)) { Remove-Item -LiteralPath $Path -Recurse -Force -ErrorAction Ignore }
}

# The guest built by scripts/build-guest.sh (cached; built on first use). VMDEBUG_GUEST_DIR overrides it.
function Get-TestGuestDirectory {
    if ($env:VMDEBUG_GUEST_DIR) { return $env:VMDEBUG_GUEST_DIR }
    if (-not (Get-Variable -Scope Script -Name VmDebugGuestDir -ErrorAction Ignore)) {
        $out = & (Join-Path $script:VmDebugRepoRoot 'scripts' 'build-guest.sh') 2>$null
        if ($LASTEXITCODE) { throw "scripts/build-guest.sh failed with exit code $LASTEXITCODE" }
        $script:VmDebugGuestDir = @($out)[-1]
        $env:VMDEBUG_GUEST_DIR = $script:VmDebugGuestDir
    }
    $script:VmDebugGuestDir
}

<#
Starts the test guest under TCG and returns once its sockets exist, or throws with QEMU's stderr when QEMU exits
first. The result: Process, Id, Directory, QmpSocket, KmsgSocket ($null without -KmsgPort), ConsoleLog, MemoryMiB.
  -PanicAfter S     the guest panics S seconds after boot (panic action pause, so it can be dumped)
  -KmsgPort         the guest copies /dev/kmsg to a virtio-serial port on the unix socket KmsgSocket
  -Markers N        N lines "vmdebug marker I" at level -MarkerLevel (default 5)
  -ExtraArgument    more QEMU arguments
  -KernelArgument   more guest kernel command-line words (e.g. sysctl.kernel.unknown_nmi_panic=1 vmdebug.hang=1)
#>
function Start-TestGuest {
    param(
        [int] $MemoryMiB = 256,
        [Nullable[int]] $PanicAfter,
        [switch] $KmsgPort,
        [int] $Markers = 0,
        [int] $MarkerLevel = 5,
        [string[]] $ExtraArgument = @(),
        [string[]] $KernelArgument = @(),
        [timespan] $StartTimeout = [timespan]::FromSeconds(60)
    )
    $qemu = Find-TestTool 'qemu-system-x86_64'
    if (-not $qemu) { throw (Get-MissingToolReason 'qemu-system-x86_64') }
    $guestDir = Get-TestGuestDirectory
    $dir = New-TestDirectory 'vmdebug-guest-'
    $qmp = Join-Path $dir 'qmp.sock'
    $append = 'console=ttyS0 panic=0 quiet'
    if ($null -ne $PanicAfter) { $append += " vmdebug.panic_after=$PanicAfter" }
    if ($Markers) { $append += " vmdebug.markers=$Markers vmdebug.marker_level=$MarkerLevel" }
    if ($KernelArgument) { $append += ' ' + ($KernelArgument -join ' ') }
    $arguments = @('-nodefaults', '-display', 'none', '-nic', 'none', '-machine', 'q35', '-accel', 'tcg', '-m', "$MemoryMiB",
        '-kernel', "$guestDir/vmlinuz", '-initrd', "$guestDir/initrd.gz", '-serial', "file:$dir/console.log",
        '-action', 'panic=pause', '-device', 'pvpanic-pci', '-device', 'vmcoreinfo',
        '-qmp', "unix:$qmp,server=on,wait=off")
    $kmsg = $null
    if ($KmsgPort) {
        $kmsg = Join-Path $dir 'kmsg.sock'
        $append += ' vmdebug.kmsg_port=org.vmdebug.kmsg'
        $arguments += '-device', 'virtio-serial-pci', '-chardev', "socket,id=kmsg,path=$kmsg,server=on,wait=off",
            '-device', 'virtserialport,chardev=kmsg,name=org.vmdebug.kmsg'
    }
    $arguments += '-append', $append
    $arguments += $ExtraArgument

    $process = Start-TestProcess -FilePath $qemu -ArgumentList $arguments -Directory $dir -Name 'qemu'
    $guest = [pscustomobject]@{
        Kind = 'Guest'; Process = $process; Id = $process.Id; Directory = $dir; QmpSocket = $qmp; KmsgSocket = $kmsg
        ConsoleLog = "$dir/console.log"; MemoryMiB = $MemoryMiB
    }
    $script:VmDebugStarted.Add($guest)
    $sockets = @($qmp) + @($kmsg | Where-Object { $_ })
    Wait-TestProcessFile -Process $process -Path $sockets -Timeout $StartTimeout -Name 'QEMU' -ErrorLog "$dir/qemu.stderr"
    $guest
}

function Stop-TestGuest($Guest) {
    if (-not $Guest -or -not (Remove-TestTrackedItem $Guest)) { return }
    Stop-TestProcess $Guest.Process
    Remove-TestDirectory $Guest.Directory
}

# Starts a process with stdout/stderr in $Directory/<Name>.stdout/.stderr (a failure can show them), stdin closed.
# The shell execs the program, so the returned process (and its PID) is the program's.
function Start-TestProcess([string] $FilePath, [string[]] $ArgumentList, [string] $Directory, [string] $Name) {
    # A shell redirects into files, so the child inherits no pipe we would have to drain.
    $shell = [System.Diagnostics.ProcessStartInfo]::new('/bin/sh')
    $shell.ArgumentList.Add('-c')
    $shell.ArgumentList.Add('exec "$@" >"$0.stdout" 2>"$0.stderr" </dev/null')
    $shell.ArgumentList.Add((Join-Path $Directory $Name))
    $shell.ArgumentList.Add($FilePath)
    foreach ($a in $ArgumentList) { $shell.ArgumentList.Add($a) }
    $shell.UseShellExecute = $false
    $shell.WorkingDirectory = $Directory
    [System.Diagnostics.Process]::Start($shell)
}

# Waits until every path exists; throws as soon as the process exits (with its stderr), or after the timeout.
function Wait-TestProcessFile([System.Diagnostics.Process] $Process, [string[]] $Path, [timespan] $Timeout, [string] $Name, [string] $ErrorLog) {
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    while (@($Path | Where-Object { -not (Test-Path -LiteralPath $_) }).Count) {
        if ($Process.HasExited) {
            $stderr = if ($ErrorLog -and (Test-Path -LiteralPath $ErrorLog)) { (Get-Content -Raw -LiteralPath $ErrorLog) } else { '' }
            throw "$Name exited with code $($Process.ExitCode) before creating $($Path -join ', '): $stderr"
        }
        if ($clock.Elapsed -gt $Timeout) {
            throw "$Name (PID $($Process.Id)) did not create $($Path -join ', ') within $($Timeout.TotalSeconds) s"
        }
        Start-Sleep -Milliseconds 50
    }
}

function Stop-TestProcess([System.Diagnostics.Process] $Process) {
    if (-not $Process) { return }
    if (-not $Process.HasExited) {
        $Process.Kill()
        [void] $Process.WaitForExit(10000)
    }
    $Process.Dispose()
}

# The guest's QMP status (running, paused, guest-panicked, ...), read with the module's own Invoke-QmpCommand.
function Get-TestGuestStatus($Guest) {
    (Invoke-QmpCommand -QmpSocket $Guest.QmpSocket -Command query-status -ErrorAction Stop).Return.status
}

# Waits (polling QMP) until the guest reports one of the states, e.g. guest-panicked.
function Wait-TestGuestStatus($Guest, [string[]] $Status, [timespan] $Timeout = [timespan]::FromSeconds(120)) {
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    while ($true) {
        if ($Guest.Process.HasExited) { throw "QEMU (PID $($Guest.Id)) exited with code $($Guest.Process.ExitCode)" }
        $now = Get-TestGuestStatus $Guest
        if ($now -in $Status) { return $now }
        if ($clock.Elapsed -gt $Timeout) {
            $console = (Get-Content -Tail 15 -ErrorAction Ignore -LiteralPath $Guest.ConsoleLog) -join "`n"
            throw "guest $($Guest.Id) still '$now' after $($Timeout.TotalSeconds) s, expected $($Status -join '/'). Console tail:`n$console"
        }
        Start-Sleep -Milliseconds 200
    }
}

# Stops everything this file started and still runs, and removes its directories. Call it in the file's AfterAll.
function Remove-TestArtifacts {
    $items = $script:VmDebugStarted.ToArray()
    [array]::Reverse($items)
    foreach ($item in $items) {
        # Each Stop- takes its item off the list and does nothing for one already stopped.
        switch ($item.Kind) {
            'Guest' { Stop-TestGuest $item }
            'LibvirtDaemon' { Stop-TestLibvirtDaemon $item }
            'SshServer' { Stop-TestSshServer $item }
            'Debuginfod' { Stop-TestDebuginfod $item }
            'Directory' { Remove-TestDirectory $item.Path }
        }
    }
    $script:VmDebugStarted.Clear()
}

# The private libvirtd (a real privileged daemon in its own mount namespace, on its own socket), from the same code as
# the xunit LibvirtDaemonFixture: tests/VmDebug.TestServices run as `vmdebug-testhost libvirtd`. It serves until we
# close its standard input. The result: Uri, ReadOnlyUri, SocketPath, QemuConfPath, RunDirectory, RootDirectory,
# DaemonProcessId, and SkipReason (non-null when libvirtd is not installed: then call Set-ItResult -Skipped -Because).
# Starts `vmdebug-testhost SERVICE ARGS…` and returns its process and the JSON line it prints once ready; the service
# runs until its stdin is closed.
function Start-TestHostService([string[]] $Arguments, [timespan] $StartTimeout) {
    $info = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
    $info.ArgumentList.Add((Find-TestServicesAssembly))
    foreach ($argument in $Arguments) { $info.ArgumentList.Add($argument) }
    $info.UseShellExecute = $false
    $info.RedirectStandardInput = $true
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $process = [System.Diagnostics.Process]::Start($info)
    $stderr = $process.StandardError.ReadToEndAsync()
    $line = $process.StandardOutput.ReadLineAsync()
    if (-not $line.Wait($StartTimeout) -or -not $line.Result) {
        if (-not $process.HasExited) { $process.Kill() }
        [void] $process.WaitForExit(10000)
        throw "vmdebug-testhost $($Arguments[0]) did not start within $($StartTimeout.TotalSeconds) s: $($stderr.Result)"
    }
    [pscustomobject]@{ Process = $process; Description = $line.Result | ConvertFrom-Json }
}

function Start-TestLibvirtDaemon([timespan] $StartTimeout = [timespan]::FromSeconds(180)) {
    $started = Start-TestHostService -Arguments 'libvirtd' -StartTimeout $StartTimeout
    $description = $started.Description
    $daemon = [pscustomobject]@{
        Kind = 'LibvirtDaemon'; Process = $started.Process
        SkipReason = $description.PSObject.Properties['skipReason']?.Value
        Uri = $description.PSObject.Properties['uri']?.Value; ReadOnlyUri = $description.PSObject.Properties['readOnlyUri']?.Value
        SocketPath = $description.PSObject.Properties['socketPath']?.Value
        QemuConfPath = $description.PSObject.Properties['qemuConfPath']?.Value
        RunDirectory = $description.PSObject.Properties['runDirectory']?.Value
        RootDirectory = $description.PSObject.Properties['rootDirectory']?.Value
        DaemonProcessId = $description.PSObject.Properties['daemonProcessId']?.Value
    }
    $script:VmDebugStarted.Add($daemon)
    $daemon
}

function Stop-TestLibvirtDaemon($Daemon) {
    if (-not $Daemon -or -not (Remove-TestTrackedItem $Daemon)) { return }
    # Closing stdin makes the host destroy its domains and stop both daemons by PID.
    $Daemon.Process.StandardInput.Close()
    if (-not $Daemon.Process.WaitForExit(60000)) { $Daemon.Process.Kill() ; [void] $Daemon.Process.WaitForExit(10000) }
    $Daemon.Process.Dispose()
}

# A private debuginfod on a free loopback port over -Path (-DebianPackages: .deb files, debuginfod -U; else ELF files, -F),
# from the same code as the xunit fixtures: `vmdebug-testhost debuginfod`. Returns once the folder is scanned, serving
# until stopped. The result: Url, ProcessId, RootDirectory, ScanSeconds, and SkipReason (non-null when debuginfod or
# bsdtar is not installed: then call Set-ItResult -Skipped -Because). Scanning the kernel's 283 MB -dbg .deb takes
# minutes on a loaded machine: start one per file.
function Start-TestDebuginfod([string] $Path, [switch] $DebianPackages, [timespan] $StartTimeout = [timespan]::FromMinutes(10)) {
    $mode = if ($DebianPackages) { '-U' } else { '-F' }
    $started = Start-TestHostService -Arguments 'debuginfod', $mode, (Resolve-Path -LiteralPath $Path).ProviderPath -StartTimeout $StartTimeout
    $description = $started.Description
    $process = $started.Process
    $server = [pscustomobject]@{
        Kind = 'Debuginfod'; Process = $process
        SkipReason = $description.PSObject.Properties['skipReason']?.Value
        Url = $description.PSObject.Properties['url']?.Value
        ProcessId = $description.PSObject.Properties['processId']?.Value
        RootDirectory = $description.PSObject.Properties['rootDirectory']?.Value
        ScanSeconds = $description.PSObject.Properties['scanSeconds']?.Value
    }
    $script:VmDebugStarted.Add($server)
    $server
}

function Stop-TestDebuginfod($Server) {
    if (-not $Server -or -not (Remove-TestTrackedItem $Server)) { return }
    # Closing stdin makes the host stop debuginfod by its PID and remove its database.
    $Server.Process.StandardInput.Close()
    if (-not $Server.Process.WaitForExit(30000)) { $Server.Process.Kill(); [void] $Server.Process.WaitForExit(10000) }
    $Server.Process.Dispose()
}

# vmdebug-testhost.dll from the solution build (dotnet build VmDebug.slnx), Release preferred; VMDEBUG_TESTHOST overrides.
function Find-TestServicesAssembly {
    if ($env:VMDEBUG_TESTHOST) { return $env:VMDEBUG_TESTHOST }
    $bin = Join-Path $script:VmDebugRepoRoot 'tests' 'VmDebug.TestServices' 'bin'
    foreach ($configuration in 'Release', 'Debug') {
        $dll = Join-Path $bin $configuration 'net8.0' 'vmdebug-testhost.dll'
        if (Test-Path -LiteralPath $dll) { return $dll }
    }
    throw "vmdebug-testhost.dll is not built under ${bin}: run dotnet build VmDebug.slnx -c Release first."
}

<#
A private sshd on a loopback port, for PowerShell remoting over SSH: a throwaway host key and client key, its own
config (pubkey only, this user), pwsh registered as its powershell subsystem, run in the foreground (-D) and stopped by
its PID. The result: Port, UserName, KeyFilePath, Options (for New-PSSession/Invoke-Command -Options: the host key
pinned in a private known_hosts), Process, Directory. New-TestSshSession opens a PSSession to it.
#>
function Start-TestSshServer([timespan] $StartTimeout = [timespan]::FromSeconds(30)) {
    $missing = Get-MissingToolReason 'sshd', 'ssh', 'ssh-keygen'
    if ($missing) { throw $missing }
    $sshd = Find-TestTool 'sshd'
    $pwsh = Get-TestPwshPath
    $dir = New-TestDirectory 'vmdebug-sshd-'
    foreach ($key in 'host_key', 'client_key') {
        & (Find-TestTool 'ssh-keygen') -q -t ed25519 -N '' -C "vmdebug-test-$key" -f (Join-Path $dir $key)
        if ($LASTEXITCODE) { throw "ssh-keygen failed for $key" }
    }
    Copy-Item (Join-Path $dir 'client_key.pub') (Join-Path $dir 'authorized_keys')
    # sshd refuses to start without its privilege separation directory (Debian's init script creates it at boot).
    if (-not (Test-Path -LiteralPath '/run/sshd')) { [void] (New-Item -ItemType Directory '/run/sshd') }
    $user = [Environment]::UserName

    $lastError = ''
    foreach ($attempt in 1..5) {
        $port = Get-FreeLoopbackPort
        @(
            "Port $port", 'ListenAddress 127.0.0.1', "HostKey $dir/host_key", "PidFile $dir/sshd.pid",
            "AuthorizedKeysFile $dir/authorized_keys", 'PubkeyAuthentication yes', 'PasswordAuthentication no',
            'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', "AllowUsers $user",
            'PermitRootLogin prohibit-password', 'LogLevel VERBOSE',
            "Subsystem powershell $pwsh -sshs -NoLogo -NoProfile"
        ) | Set-Content (Join-Path $dir 'sshd_config')
        $process = Start-TestProcess -FilePath $sshd -ArgumentList @('-D', '-e', '-f', "$dir/sshd_config") -Directory $dir -Name 'sshd'
        if (Wait-TestTcpPort -Process $process -Port $port -Timeout $StartTimeout) {
            $hostKey = (Get-Content (Join-Path $dir 'host_key.pub')).Split(' ')[0..1] -join ' '
            "[localhost]:$port $hostKey", "[127.0.0.1]:$port $hostKey" | Set-Content (Join-Path $dir 'known_hosts')
            $server = [pscustomobject]@{
                Kind = 'SshServer'; Process = $process; Id = $process.Id; Port = $port; UserName = $user
                KeyFilePath = Join-Path $dir 'client_key'; Directory = $dir
                Options = @{ StrictHostKeyChecking = 'yes'; UserKnownHostsFile = (Join-Path $dir 'known_hosts'); BatchMode = 'yes' }
            }
            $script:VmDebugStarted.Add($server)
            return $server
        }
        $lastError = Get-Content -Raw -ErrorAction Ignore (Join-Path $dir 'sshd.stderr')
        Stop-TestProcess $process
    }
    throw "sshd did not start on a loopback port after 5 attempts: $lastError"
}

function Stop-TestSshServer($Server) {
    if (-not $Server -or -not (Remove-TestTrackedItem $Server)) { return }
    Stop-TestProcess $Server.Process
    Remove-TestDirectory $Server.Directory
}

# A PSSession over SSH to the test sshd (one pwsh process on the far side per session).
function New-TestSshSession($Server) {
    New-PSSession -HostName localhost -Port $Server.Port -UserName $Server.UserName -KeyFilePath $Server.KeyFilePath `
        -Options $Server.Options -ErrorAction Stop
}

# The pwsh running these tests (VMDEBUG_PWSH overrides): the same one serves the far side of remoting.
function Get-TestPwshPath {
    if ($env:VMDEBUG_PWSH) { return $env:VMDEBUG_PWSH }
    $candidate = Join-Path $PSHOME 'pwsh'
    if (Test-Path -LiteralPath $candidate) { return $candidate }
    (Get-Command pwsh -CommandType Application -ErrorAction Stop | Select-Object -First 1).Source
}

function Get-FreeLoopbackPort {
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

# True once something accepts on 127.0.0.1:Port; false when the process exits first or the timeout passes.
function Wait-TestTcpPort([System.Diagnostics.Process] $Process, [int] $Port, [timespan] $Timeout) {
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    while ($clock.Elapsed -lt $Timeout) {
        if ($Process.HasExited) { return $false }
        $client = [System.Net.Sockets.TcpClient]::new()
        try { $client.Connect([System.Net.IPAddress]::Loopback, $Port); return $true }
        catch [System.Net.Sockets.SocketException] { Start-Sleep -Milliseconds 50 }
        finally { $client.Dispose() }
    }
    $false
}

# Defines a small q35 domain (no kernel: it is never started) in the private libvirtd through virsh, the peer client.
# -Features and -Devices are XML inserted into <features> and <devices>; -OnCrash sets <on_crash>.
function Register-TestDomain($Daemon, [string] $Name, [string] $Features = '', [string] $Devices = '', [string] $OnCrash) {
    $onCrashElement = if ($OnCrash) { "<on_crash>$OnCrash</on_crash>" } else { '' }
    $path = Join-Path (New-TestDirectory 'vmdebug-domain-') "$Name.xml"
    Set-Content -LiteralPath $path -Value @"
<domain type='qemu'>
  <name>$Name</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <features><acpi/>$Features</features>
  $onCrashElement
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator>$Devices</devices>
</domain>
"@
    & virsh -q -c $Daemon.Uri define $path | Out-Null
    if ($LASTEXITCODE) { throw "virsh define of $Name failed with exit code $LASTEXITCODE" }
}
