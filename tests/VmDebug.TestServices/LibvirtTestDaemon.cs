using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using VmDebug.Engine.CrashConfiguration;
using VmDebug.Engine.Libvirt;

namespace VmDebug.TestServices;

/// <summary>
/// A private, privileged libvirtd + virtlogd pair for tests. A privileged libvirtd has its paths compiled in
/// (/etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/cache/libvirt, /var/log/libvirt), so the daemons run in
/// their own mount namespace (unshare) where those directories are bind mounts of a temporary directory. Config,
/// domains, sockets, QEMU state and logs are therefore private and vanish on disposal; the system libvirtd,
/// running or not, is untouched. Clients reach it through <see cref="Uri"/> (qemu:///system?socket=...).
/// Only the QEMU capabilities cache is shared between runs (libvirt re-validates it against the QEMU binary),
/// which saves several seconds of probing per start.
/// qemu.conf sets user/group root: /dev/kvm is root-only here and libvirt would otherwise re-probe QEMU on every
/// call (define took ~70 s). The pid files are private too (-p): the defaults /run/libvirtd.pid and /run/virtlogd.pid
/// are outside the bind mounts, so a second test daemon on the host would fail to start, and the host's init script
/// would look responsible for this one.
/// Tests may restart the daemon (it then runs under another PID); disposal stops whichever one serves the socket.
/// Used by the xunit LibvirtDaemonFixture and, through `vmdebug-testhost libvirtd`, by the Pester suite.
/// </summary>
public sealed partial class LibvirtTestDaemon : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private Process? _virtlogd;
    private Process? _libvirtd;
    private readonly StringBuilder _daemonOutput = new();

    public string RootDirectory { get; private set; } = "";
    public string SocketPath => Path.Combine(RootDirectory, "run", "libvirt-sock");
    public string Uri => $"qemu:///system?socket={SocketPath}";
    public string ReadOnlyUri => $"qemu:///system?socket={SocketPath}-ro";
    /// <summary>The daemon's qemu.conf (/etc/libvirt/qemu.conf inside its namespace).</summary>
    public string QemuConfPath => Path.Combine(RootDirectory, "etc", "qemu.conf");
    /// <summary>/run/libvirt inside the daemon's namespace: QEMU pid files are in its qemu/ folder.</summary>
    public string RunDirectory => Path.Combine(RootDirectory, "run");
    /// <summary>The daemon serving <see cref="SocketPath"/> now (a restart changes it); null when none answers.</summary>
    public int? DaemonProcessId => UnixSocketPeer.TryGetListenerProcessId(SocketPath);

    /// <summary>The PID of the QEMU process running <paramref name="domain"/>, from libvirt's pid file.</summary>
    public int QemuProcessId(string domain) => int.Parse(File.ReadAllText(Path.Combine(RunDirectory, "qemu", domain + ".pid")).Trim());
    /// <summary>From process start until the daemon socket exists.</summary>
    public TimeSpan DaemonStartTime { get; private set; }
    /// <summary>From socket present until the first virConnectGetVersion answered (QEMU capability probing).</summary>
    public TimeSpan FirstCallTime { get; private set; }

    public LibvirtConnection Connect() => LibvirtConnection.Open(Uri);

    private LibvirtTestDaemon() { }

    /// <summary>The tools' paths, or the reason they are missing (naming the apt packages).</summary>
    public static (string? Libvirtd, string? Virtlogd, string? MissingReason) FindDaemons()
    {
        var libvirtd = FindTool("libvirtd");
        var virtlogd = FindTool("virtlogd");
        var missing = libvirtd is null || virtlogd is null
            ? $"{(libvirtd is null ? "libvirtd" : "virtlogd")} is not installed: apt-get install libvirt-daemon-system libvirt-daemon-driver-qemu"
            : null;
        return (libvirtd, virtlogd, missing);
    }

    /// <summary>Starts the daemons and returns once libvirtd answers; needs root.</summary>
    public static async Task<LibvirtTestDaemon> StartAsync(string libvirtd, string virtlogd)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            throw new InvalidOperationException("The libvirt test daemon needs root (a mount namespace and a privileged libvirtd).");
        }

        var daemon = new LibvirtTestDaemon { RootDirectory = Directory.CreateTempSubdirectory("vmdebug-libvirtd-").FullName };
        string[] dirs = ["etc", "run", "lib", "log"];
        foreach (var d in dirs)
        {
            Directory.CreateDirectory(Path.Combine(daemon.RootDirectory, d));
        }

        var cache = Path.Combine(Path.GetTempPath(), "vmdebug-libvirt-cache");
        Directory.CreateDirectory(cache);

        var etc = Path.Combine(daemon.RootDirectory, "etc");
        File.WriteAllText(Path.Combine(etc, "libvirtd.conf"),
            "auth_unix_rw = \"none\"\nauth_unix_ro = \"none\"\nunix_sock_rw_perms = \"0700\"\n" +
            "log_outputs = \"3:file:/var/log/libvirt/libvirtd.log\"\n");
        File.WriteAllText(Path.Combine(etc, "virtlogd.conf"), "log_outputs = \"3:file:/var/log/libvirt/virtlogd.log\"\n");
        File.WriteAllText(Path.Combine(etc, "qemu.conf"), "user = \"root\"\ngroup = \"root\"\n");

        try
        {
            await daemon.StartDaemonsAsync(virtlogd, libvirtd, etc, cache);
            return daemon;
        }
        catch
        {
            await daemon.DisposeAsync();
            throw;
        }
    }

    /// <summary>Full path of a tool on PATH or in /usr/sbin, /sbin (where Debian puts daemons), or null.</summary>
    public static string? FindTool(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/sbin").Append("/sbin")
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    /// <summary>
    /// Stops libvirtd (whichever process serves the socket, by its PID) and waits until it has exited; virtlogd and the
    /// domains' QEMU processes keep running, as they do when a host's libvirtd is stopped.
    /// </summary>
    public async Task StopLibvirtdAsync()
    {
        if (DaemonProcessId is not { } pid)
        {
            throw new InvalidOperationException("No libvirtd serves " + SocketPath);
        }
        await StopByPidAsync(pid);
        _libvirtd?.Dispose();
        _libvirtd = null;
    }

    /// <summary>Starts libvirtd again in the same namespace, on the same socket, and returns once it answers.</summary>
    public async Task StartLibvirtdAsync()
    {
        if (_virtlogd is null || _libvirtd is not null)
        {
            throw new InvalidOperationException("libvirtd can be started again only after StopLibvirtdAsync.");
        }
        await StartLibvirtdInNamespaceAsync(FindTool("libvirtd")!, Stopwatch.StartNew());
    }

    private async Task StartDaemonsAsync(string virtlogd, string libvirtd, string etc, string cache)
    {
        var clock = Stopwatch.StartNew();
        // The shell makes the bind mounts inside the new namespace and becomes virtlogd, so the PID we hold is virtlogd's.
        // Their pid files default to /run/*.pid, outside the private mounts: other test runs' daemons hold those locks.
        var script = string.Join("; ",
            "set -e",
            "mkdir -p /run/libvirt /var/log/libvirt /var/cache/libvirt /var/lib/libvirt /etc/libvirt",
            $"mount --bind '{etc}' /etc/libvirt",
            $"mount --bind '{Path.Combine(RootDirectory, "run")}' /run/libvirt",
            $"mount --bind '{Path.Combine(RootDirectory, "lib")}' /var/lib/libvirt",
            $"mount --bind '{Path.Combine(RootDirectory, "log")}' /var/log/libvirt",
            $"mount --bind '{cache}' /var/cache/libvirt",
            $"exec '{virtlogd}' -f /etc/libvirt/virtlogd.conf -p /run/libvirt/virtlogd.pid");
        _virtlogd = StartDaemon("unshare", ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", script]);
        await WaitForFileAsync(Path.Combine(RootDirectory, "run", "virtlogd-sock"), _virtlogd, "virtlogd");
        await StartLibvirtdInNamespaceAsync(libvirtd, clock);
    }

    /// <param name="clock">Running since the daemons' start: <see cref="DaemonStartTime"/> is read from it.</param>
    private async Task StartLibvirtdInNamespaceAsync(string libvirtd, Stopwatch clock)
    {
        var namespaceOwner = _virtlogd ?? throw new InvalidOperationException("virtlogd is not running.");
        _libvirtd = StartDaemon("nsenter", [$"--mount=/proc/{namespaceOwner.Id}/ns/mnt", "--", libvirtd, "-f", "/etc/libvirt/libvirtd.conf", "-p", "/run/libvirt/libvirtd.pid"]);
        // A socket file left by the stopped daemon may still be there: the connection attempts below decide.
        await WaitForFileAsync(SocketPath, _libvirtd, "libvirtd");
        DaemonStartTime = clock.Elapsed;

        clock.Restart();
        while (true)
        {
            try
            {
                using var connection = Connect();
                connection.GetVersion();
                break;
            }
            catch (LibvirtException) when (clock.Elapsed < StartTimeout && !_libvirtd.HasExited)
            {
                await Task.Delay(200);
            }
            catch (LibvirtException e)
            {
                throw new InvalidOperationException($"The test libvirtd did not answer: {e.Message}\n{DaemonDiagnostics()}", e);
            }
        }
        FirstCallTime = clock.Elapsed;
    }

    public async ValueTask DisposeAsync()
    {
        var serving = RootDirectory.Length > 0 ? DaemonProcessId : null;
        var original = _libvirtd?.Id;
        if (serving is not null)
        {
            try
            {
                using var connection = Connect();
                foreach (var domain in connection.ListAllDomains())
                {
                    using (domain)
                    {
                        if (domain.IsActive)
                        {
                            domain.Destroy();
                        }

                        domain.Undefine();
                    }
                }
            }
            catch (LibvirtException)
            {
                // Best effort: QEMU processes left behind are killed through their pid files below.
            }
        }
        foreach (var pidFile in Directory.Exists(Path.Combine(RootDirectory, "run", "qemu"))
                     ? Directory.GetFiles(Path.Combine(RootDirectory, "run", "qemu"), "*.pid") : [])
        {
            if (int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid))
            {
                Kill(pid, SigKill);
            }
        }
        await StopAsync(_libvirtd);
        _libvirtd = null;
        // A daemon a test restarted is no child of ours: stop it by the PID that serves the socket.
        if (serving is { } restarted && restarted != original && LibvirtDaemonIsRunning(restarted))
        {
            await StopByPidAsync(restarted);
        }

        await StopAsync(_virtlogd);
        _virtlogd = null;
        if (RootDirectory.Length > 0 && Directory.Exists(RootDirectory))
        {
            Directory.Delete(RootDirectory, recursive: true);
        }
    }

    /// <summary>Daemon stderr and log tails, for failure messages.</summary>
    public string DaemonDiagnostics()
    {
        var log = Path.Combine(RootDirectory, "log", "libvirtd.log");
        var tail = File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(20)) : "(no libvirtd.log)";
        lock (_daemonOutput)
        {
            return $"daemon output:\n{_daemonOutput}\nlibvirtd.log tail:\n{tail}";
        }
    }

    private Process StartDaemon(string file, string[] args)
    {
        var info = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_daemonOutput)
        {
            if (_daemonOutput.Length < 64 * 1024)
            {
                _daemonOutput.AppendLine(line);
            }
        }
    }

    private async Task WaitForFileAsync(string path, Process owner, string name)
    {
        var clock = Stopwatch.StartNew();
        while (!File.Exists(path))
        {
            if (owner.HasExited)
            {
                throw new InvalidOperationException($"{name} exited with code {owner.ExitCode} before creating {path}.\n{DaemonDiagnostics()}");
            }

            if (clock.Elapsed > StartTimeout)
            {
                throw new TimeoutException($"{name} did not create {path} within {StartTimeout.TotalSeconds} s.\n{DaemonDiagnostics()}");
            }

            await Task.Delay(50);
        }
    }

    private static async Task StopAsync(Process? process)
    {
        if (process is null)
        {
            return;
        }

        using (process)
        {
            if (process.HasExited)
            {
                return;
            }

            Kill(process.Id, SigTerm);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill();
                await process.WaitForExitAsync();
            }
        }
    }

    private static bool LibvirtDaemonIsRunning(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/comm").Trim() == "libvirtd"; }
        catch (IOException) { return false; }
    }

    private static async Task StopByPidAsync(int pid)
    {
        Kill(pid, SigTerm);
        var clock = Stopwatch.StartNew();
        while (LibvirtDaemonIsRunning(pid) && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
        }

        if (LibvirtDaemonIsRunning(pid))
        {
            Kill(pid, SigKill);
        }
    }


    private const int SigKill = 9;
    private const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);
}
