# Helpers for the virtio-trace tests (Add-VirtioTraceChannel, Receive-VirtioTrace). Dot-source after common.ps1.

# Why the guest-side agent cannot be built or read here, or $null.
function Get-VirtioTraceSkipReason {
    $reason = Get-MissingToolReason 'qemu-system-x86_64', 'trace-cmd', 'cpio', 'gcc'
    if (-not $reason -and -not (Test-Path -LiteralPath /usr/src/linux-source-6.1.tar.xz)) {
        $reason = 'linux-source-6.1 not installed: apt-get install linux-source-6.1'
    }
    $reason
}

# The shared test initrd followed by the agent's archive (Linux reads concatenated initramfs archives), in a new test
# directory; boot it with vmdebug.exec=/vmdebug-trace/start.sh.
function New-TraceInitrd {
    $agent = @(& (Join-Path (Get-VmDebugRepoRoot) 'scripts' 'build-trace-agent.sh'))[-1]
    if ($LASTEXITCODE) { throw "scripts/build-trace-agent.sh failed with exit code $LASTEXITCODE" }
    $initrd = Join-Path (New-TestDirectory 'vmdebug-trace-initrd-') 'initrd.gz'
    $bytes = [IO.File]::ReadAllBytes((Join-Path (Get-TestGuestDirectory) 'initrd.gz')) + [IO.File]::ReadAllBytes((Join-Path $agent 'trace-agent.cpio.gz'))
    [IO.File]::WriteAllBytes($initrd, $bytes)
    $initrd
}

# Waits for the start script's console line: the start order must reach a running agent, which reads "1\n" and "0\n"
# as separate notifications.
function Wait-TraceAgent([string] $ConsoleLog, [scriptblock] $Exited = { $false }) {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    while (-not (Select-String -Quiet -SimpleMatch 'vmdebug: trace-agent starting' -LiteralPath $ConsoleLog -ErrorAction Ignore)) {
        if ((& $Exited) -or $clock.Elapsed.TotalSeconds -gt 120) {
            throw "the guest's trace-agent did not start. Console: $(Get-Content -Raw -LiteralPath $ConsoleLog -ErrorAction Ignore)"
        }
        Start-Sleep -Milliseconds 200
    }
    Start-Sleep -Seconds 1
}

# Starts a QEMU guest with $CpuCount CPUs, the agent and its channels (from Add-VirtioTraceChannel -QemuArguments).
function Start-TraceGuest([int] $CpuCount, [string] $Initrd) {
    $work = New-TestDirectory 'vmdebug-trace-'
    $fifos = Join-Path $work 'fifos'
    $qemuArgs = (Add-VirtioTraceChannel -QemuArguments -CpuCount $CpuCount -Directory $fifos -Metadata -ErrorAction Stop).QemuArguments
    # The later -initrd and -append replace Start-TestGuest's: QEMU keeps the last of each.
    $guest = Start-TestGuest -ExtraArgument (@('-smp', "$CpuCount", '-initrd', $Initrd,
            '-append', 'console=ttyS0 panic=0 quiet vmdebug.exec=/vmdebug-trace/start.sh') + $qemuArgs)
    Wait-TraceAgent $guest.ConsoleLog { $guest.Process.HasExited }
    [pscustomobject]@{ Guest = $guest; Fifos = $fifos; Work = $work }
}
