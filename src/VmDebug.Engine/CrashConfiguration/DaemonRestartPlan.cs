using System.Diagnostics;
using System.Globalization;
using VmDebug.Engine.Native;

namespace VmDebug.Engine.CrashConfiguration;

/// <summary>A decided daemon restart; <see cref="Apply"/> carries it out.</summary>
public sealed class DaemonRestartPlan
{
    private readonly HostPaths _paths;

    internal DaemonRestartPlan(HostPaths paths, LibvirtDaemonInfo daemon, IReadOnlyList<ActiveDomainJob> blockingJobs, bool forced)
    {
        _paths = paths;
        Daemon = daemon;
        BlockingJobs = blockingJobs;
        Forced = forced;
    }

    public LibvirtDaemonInfo Daemon { get; }
    /// <summary>Jobs that refuse the restart (or that -Force overrides).</summary>
    public IReadOnlyList<ActiveDomainJob> BlockingJobs { get; }
    public bool Forced { get; }
    public bool Refused => BlockingJobs.Count > 0 && !Forced;

    /// <summary>Plans a restart; refusal is decided here from the caller's list of active jobs.</summary>
    public static DaemonRestartPlan Create(LibvirtDaemonInfo daemon, IReadOnlyList<ActiveDomainJob> activeJobs, bool force, HostPaths? paths = null) =>
        new(paths ?? HostPaths.Default, daemon, activeJobs, force);

    public string Description => Daemon.ServiceManager switch
    {
        "Process" => $"Restart {Daemon.Name} (PID {Daemon.ProcessId}): SIGTERM, then start its command line again",
        _ => $"Restart {Daemon.Name}: {string.Join(' ', Daemon.RestartCommand)}",
    } + (BlockingJobs.Count > 0 ? (Forced ? $" (forced despite {BlockingJobs.Count} active job(s))" : " (refused: active jobs)") : "");

    /// <summary>Throws <see cref="DaemonRestartRefusedException"/> when refused; otherwise restarts.</summary>
    public void ThrowIfRefused()
    {
        if (Refused)
        {
            throw new DaemonRestartRefusedException(Daemon.Name, BlockingJobs);
        }
    }

    /// <summary>Restarts the daemon and returns the new process id once it runs again and, for a daemon restarted
    /// by signal, accepts connections on its socket.</summary>
    public int? Apply(TimeSpan timeout, CancellationToken cancellationToken)
    {
        ThrowIfRefused();
        if (Daemon.ServiceManager != "Process")
        {
            RunCommand(Daemon.RestartCommand, timeout, cancellationToken);
            return WaitForNewProcess(Daemon.ProcessId, null, timeout, cancellationToken);
        }
        if (Daemon.ProcessId is not { } pid)
        {
            throw new VmDebugException("LibvirtDaemonNotRunning", ErrorKind.InvalidOperation,
                $"{Daemon.Name} is not running and no service manager knows it, so there is nothing to restart.", Daemon.Name);
        }

        return RestartProcess(pid, timeout, cancellationToken);
    }

    private int? RestartProcess(int pid, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var procDir = Path.Combine(_paths.ProcRoot, pid.ToString(CultureInfo.InvariantCulture));
        var argv = LibvirtDaemonLocator.ReadCommandLine(_paths, pid);
        var environment = File.ReadAllText(Path.Combine(procDir, "environ")).Split('\0', StringSplitOptions.RemoveEmptyEntries);
        var cwd = new DirectoryInfo(Path.Combine(procDir, "cwd")).LinkTarget ?? "/";
        if (argv.Length == 0)
        {
            throw new VmDebugException("LibvirtDaemonRestartFailed", ErrorKind.InvalidOperation,
                $"Cannot read the command line of {Daemon.Name} (PID {pid}).", Daemon.Name);
        }

        // A daemon in another mount namespace (a container, or a test's private libvirtd) must come back in it:
        // hold the namespace open now, since /proc/PID/ns/mnt vanishes with the process.
        var namespaceFd = -1;
        var theirNamespace = Path.Combine(procDir, "ns", "mnt");
        var ownNamespace = Path.Combine(_paths.ProcRoot, "self", "ns", "mnt");
        var theirs = new FileInfo(theirNamespace).LinkTarget;
        if (theirs is not null && theirs != new FileInfo(ownNamespace).LinkTarget)
        {
            namespaceFd = HostNative.OpenReadOnly(theirNamespace);
            if (namespaceFd < 0)
            {
                throw new VmDebugException("LibvirtDaemonRestartFailed", ErrorKind.PermissionDenied,
                    $"Cannot open the mount namespace of {Daemon.Name} (PID {pid}) to start it again there.", Daemon.Name);
            }
        }
        try
        {
            Terminate(pid, timeout, cancellationToken, out var elapsed);
            StartAgain(argv, environment, cwd, namespaceFd);
            return WaitForNewProcess(pid, argv, timeout - elapsed, cancellationToken);
        }
        finally
        {
            if (namespaceFd >= 0)
            {
                HostNative.Close(namespaceFd);
            }
        }
    }

    private void Terminate(int pid, TimeSpan timeout, CancellationToken cancellationToken, out TimeSpan elapsed)
    {
        const int SigTerm = 15;
        var errno = HostNative.SendSignal(pid, SigTerm);
        if (errno != 0)
        {
            throw new VmDebugException("LibvirtDaemonRestartFailed", ErrorKind.PermissionDenied,
                $"Cannot signal {Daemon.Name} (PID {pid}): {HostNative.ErrnoText(errno)}.", Daemon.Name);
        }

        var clock = Stopwatch.StartNew();
        while (LibvirtDaemonLocator.IsAlive(_paths, pid))
        {
            if (clock.Elapsed > timeout)
            {
                throw new VmDebugException("LibvirtDaemonRestartTimeout", ErrorKind.OperationTimeout,
                    $"{Daemon.Name} (PID {pid}) did not exit within {timeout.TotalSeconds:0} s of SIGTERM.", Daemon.Name);
            }

            Task.Delay(50, cancellationToken).GetAwaiter().GetResult();
        }
        elapsed = clock.Elapsed;
    }

    /// <summary>
    /// Starts the command line again, detached (setsid) as a service manager would, with the old environment,
    /// inside the old mount namespace when <paramref name="namespaceFd"/> holds one, and with stdio on /dev/null:
    /// inherited pipes would keep whoever reads our output waiting for as long as the daemon lives.
    /// </summary>
    private static void StartAgain(string[] argv, string[] environment, string cwd, int namespaceFd)
    {
        var command = new List<string>();
        var setsid = new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists);
        if (setsid is not null)
        {
            command.AddRange([setsid, "-f"]);
        }

        if (namespaceFd >= 0)
        {
            var nsenter = new[] { "/usr/bin/nsenter", "/bin/nsenter" }.FirstOrDefault(File.Exists)
                ?? throw new VmDebugException("LibvirtDaemonRestartFailed", ErrorKind.NotInstalled,
                    "The daemon runs in its own mount namespace and nsenter (package util-linux) is not installed to start it there again.", "nsenter");
            command.AddRange([nsenter, $"--mount=/proc/{Environment.ProcessId}/fd/{namespaceFd}", "--"]);
        }
        command.AddRange(argv);
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = Directory.Exists(cwd) ? cwd : "/" };
        foreach (var a in new[] { "-c", "exec \"$@\" </dev/null >/dev/null 2>&1", "sh" }.Concat(command))
        {
            start.ArgumentList.Add(a);
        }

        start.Environment.Clear();
        foreach (var kv in environment)
        {
            var eq = kv.IndexOf('=');
            if (eq > 0)
            {
                start.Environment[kv[..eq]] = kv[(eq + 1)..];
            }
        }
        using var launcher = Process.Start(start)!;
        // setsid -f returns at once; without setsid the shell is the daemon, so do not wait for it.
        if (setsid is not null)
        {
            launcher.WaitForExit();
        }
    }

    /// <param name="argv">When known, the new process must have this command line (other daemons may run too).</param>
    private int? WaitForNewProcess(int? oldPid, string[]? argv, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var found = argv is not null && Daemon.Socket is { } socket ? ListenerOf(socket, oldPid, argv) : LibvirtDaemonLocator.EnumerateProcesses(_paths)
                .Where(p => p.Comm == Daemon.Name && p.Pid != oldPid && LibvirtDaemonLocator.IsAlive(_paths, p.Pid)
                    && (argv is null || LibvirtDaemonLocator.ReadCommandLine(_paths, p.Pid).SequenceEqual(argv)))
                .Select(p => (int?)p.Pid).FirstOrDefault();
            if (found is not null)
            {
                return found;
            }

            if (clock.Elapsed > timeout)
            {
                throw new VmDebugException("LibvirtDaemonRestartTimeout", ErrorKind.OperationTimeout,
                    $"{Daemon.Name} did not come back within {timeout.TotalSeconds:0} s after the restart.", Daemon.Name);
            }

            Task.Delay(100, cancellationToken).GetAwaiter().GetResult();
        }
    }

    /// <summary>The new daemon once it accepts connections on its socket: other daemons with the same command line may run.</summary>
    private int? ListenerOf(string socket, int? oldPid, string[] argv)
    {
        var pid = UnixSocketPeer.TryGetListenerProcessId(socket);
        return pid is { } p && p != oldPid && LibvirtDaemonLocator.ReadComm(_paths, p) == Daemon.Name
            && LibvirtDaemonLocator.ReadCommandLine(_paths, p).SequenceEqual(argv) ? p : null;
    }

    private static void RunCommand(IReadOnlyList<string> command, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(command[0]) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in command.Skip(1))
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        _ = process.StandardOutput.ReadToEndAsync(cancellationToken);
        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutCts.CancelAfter(timeout);
        try { process.WaitForExitAsync(timeoutCts.Token).GetAwaiter().GetResult(); }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new VmDebugException("LibvirtDaemonRestartTimeout", ErrorKind.OperationTimeout,
                $"'{string.Join(' ', command)}' did not finish within {timeout.TotalSeconds:0} s.", command[0]);
        }
        if (process.ExitCode != 0)
        {
            throw new VmDebugException("LibvirtDaemonRestartFailed", ErrorKind.InvalidOperation,
                $"'{string.Join(' ', command)}' failed with exit code {process.ExitCode}: {stderr.GetAwaiter().GetResult().Trim()}", command[0]);
        }
    }
}
