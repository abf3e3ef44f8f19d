using System.Globalization;
using VmDebug.Engine.Native;

namespace VmDebug.Engine.CrashConfiguration;

/// <summary>Finds the libvirt daemon that runs QEMU guests and how this host manages it.</summary>
public static class LibvirtDaemonLocator
{
    private static readonly string[] DaemonNames = ["virtqemud", "libvirtd"];

    /// <summary>
    /// The running daemon (or, when <paramref name="processId"/> is given, that process), else the one whose
    /// socket or pid file exists; null if no libvirt daemon is running or set up. <paramref name="socketPath"/>
    /// is the socket clients reach it on, when the caller knows it (e.g. from a connection URI).
    /// </summary>
    public static LibvirtDaemonInfo? Detect(HostPaths paths, int? processId = null, string? socketPath = null)
    {
        string? name = null;
        int? pid = null;
        if (processId is { } wanted)
        {
            name = ReadComm(paths, wanted);
            if (name is null || !DaemonNames.Contains(name))
            {
                throw new VmDebugException("LibvirtDaemonNotFound", ErrorKind.ObjectNotFound,
                    $"Process {wanted} is not a running libvirtd or virtqemud.", wanted);
            }

            pid = wanted;
        }
        else
        {
            // A daemon in another mount namespace (a container, a test's private daemon) reads another qemu.conf.
            var ownNamespace = MountNamespace(paths, "self");
            foreach (var (p, comm) in EnumerateProcesses(paths))
            {
                if (!DaemonNames.Contains(comm) || MountNamespace(paths, p.ToString(CultureInfo.InvariantCulture)) != ownNamespace)
                {
                    continue;
                }
                // A modular host may also run libvirtd-less helpers; virtqemud is the one that owns QEMU.
                if (name is null || comm == "virtqemud") { name = comm; pid = p; }
            }
        }
        var libvirtRun = Path.Combine(paths.RunRoot, "libvirt");
        if (name is null)
        {
            if (File.Exists(Path.Combine(libvirtRun, "virtqemud-sock")) || File.Exists(Path.Combine(paths.RunRoot, "virtqemud.pid")))
            {
                name = "virtqemud";
            }
            else if (File.Exists(Path.Combine(libvirtRun, "libvirt-sock")) || File.Exists(Path.Combine(paths.RunRoot, "libvirtd.pid")))
            {
                name = "libvirtd";
            }
            else
            {
                return null;
            }
        }
        var modular = name == "virtqemud";
        var socket = socketPath ?? Path.Combine(libvirtRun, modular ? "virtqemud-sock" : "libvirt-sock");
        var (manager, command) = ServiceManagement(paths, name, pid);
        return new LibvirtDaemonInfo
        {
            Name = name,
            Modular = modular,
            ProcessId = pid,
            StartedAt = pid is { } running ? ProcessStartTime(paths, running) : null,
            Socket = File.Exists(socket) ? socket : null,
            ServiceManager = manager,
            RestartCommand = command,
        };
    }

    /// <summary>
    /// systemd as PID 1 and the daemon in a .service cgroup: systemctl. An init script whose pid file names the
    /// daemon: service(8). Anything else (a daemon someone started by hand): signal it and start it again.
    /// </summary>
    private static (string Manager, IReadOnlyList<string> Command) ServiceManagement(HostPaths paths, string name, int? pid)
    {
        if (ReadComm(paths, 1) == "systemd")
        {
            var unit = pid is { } p ? ServiceUnitOf(paths, p) : name + ".service";
            if (unit is not null)
            {
                return ("Systemd", ["systemctl", "restart", unit]);
            }
        }
        var initScript = Path.Combine(paths.SysConfRoot, "init.d", name);
        if (File.Exists(initScript) && (pid is null || PidFileNames(paths, name, pid.Value)))
        {
            var service = new[] { "/usr/sbin/service", "/sbin/service" }.FirstOrDefault(File.Exists);
            return ("SysV", service is not null ? [service, name, "restart"] : [initScript, "restart"]);
        }
        return ("Process", []);
    }

    private static bool PidFileNames(HostPaths paths, string name, int pid)
    {
        try { return int.TryParse(File.ReadAllText(Path.Combine(paths.RunRoot, name + ".pid")).Trim(), out var p) && p == pid; }
        catch (IOException) { return false; }
    }

    private static string? ServiceUnitOf(HostPaths paths, int pid)
    {
        try
        {
            foreach (var line in File.ReadLines(Path.Combine(paths.ProcRoot, pid.ToString(CultureInfo.InvariantCulture), "cgroup")))
            {
                var unit = line.Split('/').LastOrDefault(s => s.EndsWith(".service", StringComparison.Ordinal));
                if (unit is not null)
                {
                    return unit;
                }
            }
        }
        catch (IOException) { }
        return null;
    }

    internal static IEnumerable<(int Pid, string Comm)> EnumerateProcesses(HostPaths paths)
    {
        foreach (var dir in Directory.EnumerateDirectories(paths.ProcRoot))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            var comm = ReadComm(paths, pid);
            if (comm is not null)
            {
                yield return (pid, comm);
            }
        }
    }

    private static string? MountNamespace(HostPaths paths, string process)
    {
        try { return new FileInfo(Path.Combine(paths.ProcRoot, process, "ns", "mnt")).LinkTarget; }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    internal static string? ReadComm(HostPaths paths, int pid)
    {
        try { return File.ReadAllText(Path.Combine(paths.ProcRoot, pid.ToString(CultureInfo.InvariantCulture), "comm")).TrimEnd('\n'); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    internal static string[] ReadCommandLine(HostPaths paths, int pid)
    {
        try { return File.ReadAllText(Path.Combine(paths.ProcRoot, pid.ToString(CultureInfo.InvariantCulture), "cmdline")).Split('\0', StringSplitOptions.RemoveEmptyEntries); }
        catch (IOException) { return []; }
    }

    /// <summary>True while the process exists and is not a zombie.</summary>
    internal static bool IsAlive(HostPaths paths, int pid) => ProcessState(paths, pid) is { } s && s != 'Z' && s != 'X';

    private static char? ProcessState(HostPaths paths, int pid)
    {
        var stat = ReadStat(paths, pid);
        return stat is { Length: > 0 } ? stat[0][0] : null;
    }

    /// <summary>/proc/PID/stat fields after the parenthesised comm (which may contain spaces): field 3 onward.</summary>
    private static string[]? ReadStat(HostPaths paths, int pid)
    {
        try
        {
            var text = File.ReadAllText(Path.Combine(paths.ProcRoot, pid.ToString(CultureInfo.InvariantCulture), "stat"));
            var close = text.LastIndexOf(')');
            return close < 0 ? null : text[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (IOException) { return null; }
    }

    /// <summary>
    /// Field 22 (starttime, clock ticks after boot) added to the boot time. The boot time comes from /proc/uptime
    /// (centiseconds) rather than btime (whole seconds): a restart right after a config write must be seen as later.
    /// </summary>
    internal static DateTime? ProcessStartTime(HostPaths paths, int pid)
    {
        var fields = ReadStat(paths, pid);
        if (fields is null || fields.Length < 20 || !long.TryParse(fields[19], out var ticks))
        {
            return null;
        }

        try
        {
            var now = DateTime.UtcNow;
            var uptime = File.ReadAllText(Path.Combine(paths.ProcRoot, "uptime")).Split(' ')[0];
            if (!double.TryParse(uptime, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
            {
                return null;
            }

            return now.AddSeconds(-seconds).AddSeconds((double)ticks / HostNative.ClockTicksPerSecond());
        }
        catch (IOException) { return null; }
    }
}
