using System.Diagnostics;
using VmDebug.Engine;
using VmDebug.Engine.CrashConfiguration;

using VmDebug.Tests.Support;

namespace VmDebug.Tests.CrashConfiguration;

/// <summary>
/// A real process named like the daemon stands in for libvirtd (the real daemon is exercised by the libvirt
/// integration tests): detection through /proc, SIGTERM, and start of the same command line are all real.
/// </summary>
public sealed class DaemonRestartTests : IDisposable
{
    private readonly TestHost _host = new();
    private readonly List<int> _started = [];

    public void Dispose()
    {
        // Also whatever a restart started from our stand-in executable, even if the test failed midway.
        var paths = RealProcWith(_host);
        var exe = Path.Combine(_host.Root, "libvirtd");
        _started.AddRange(LibvirtDaemonLocator.EnumerateProcesses(paths)
            .Where(p => LibvirtDaemonLocator.ReadCommandLine(paths, p.Pid).FirstOrDefault() == exe).Select(p => p.Pid));
        foreach (var pid in _started.Distinct())
        {
            HostNativeKill(pid);
        }

        _host.Dispose();
    }

    private static void HostNativeKill(int pid)
    {
        try { Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { }
    }

    private int StartFakeDaemon()
    {
        var exe = Path.Combine(_host.Root, "libvirtd");
        if (!File.Exists(exe))
        {
            File.Copy("/bin/sleep", exe);
        }

        var p = Process.Start(new ProcessStartInfo(exe, ["3600"]) { UseShellExecute = false })!;
        _started.Add(p.Id);
        return p.Id;
    }

    private static HostPaths RealProcWith(TestHost host) => host.Paths with { ProcRoot = "/proc" };

    [Fact]
    public void DetectsAHandStartedDaemonAsAProcessToRestart()
    {
        var pid = StartFakeDaemon();
        var daemon = LibvirtDaemonLocator.Detect(RealProcWith(_host), pid)!;
        Assert.Equal("libvirtd", daemon.Name);
        Assert.False(daemon.Modular);
        Assert.Equal(pid, daemon.ProcessId);
        Assert.Equal("Process", daemon.ServiceManager);
        Assert.Empty(daemon.RestartCommand);
        Assert.InRange(daemon.StartedAt!.Value, DateTime.UtcNow.AddMinutes(-2), DateTime.UtcNow.AddSeconds(5));
    }

    [Fact]
    public void SysVInitScriptWhosePidFileNamesTheDaemonIsUsed()
    {
        var pid = StartFakeDaemon();
        _host.Write("etc/init.d/libvirtd", "#!/bin/sh\n");
        _host.Write("run/libvirtd.pid", pid + "\n");
        var daemon = LibvirtDaemonLocator.Detect(RealProcWith(_host), pid)!;
        Assert.Equal("SysV", daemon.ServiceManager);
        Assert.Equal("restart", daemon.RestartCommand[^1]);
    }

    [Fact]
    public void ActiveJobsRefuseTheRestartBeforeTheConfigIsWritten()
    {
        var pid = StartFakeDaemon();
        var conf = _host.Write("qemu.conf", "user = \"root\"\n");
        var options = new CoreDumpRequest
        {
            ConfigPath = conf,
            IncludeGuestMemory = true,
            RestartDaemon = true,
            DaemonProcessId = pid,
            Paths = RealProcWith(_host),
            ActiveJobs = [new ActiveDomainJob("vm1", "dump")],
        };
        var plan = CoreDumpConfigurator.PlanEnable(options);
        Assert.True(plan.Restart!.Refused);
        Assert.Contains("refused", plan.Describe());
        var ex = Assert.Throws<DaemonRestartRefusedException>(() => plan.Apply(TestContext.Current.CancellationToken));
        Assert.Equal("DaemonRestartRefusedActiveJobs", ex.ErrorId);
        Assert.Contains("domain 'vm1' has an active dump job", ex.Message);
        Assert.Equal("user = \"root\"\n", File.ReadAllText(conf));
        Assert.True(LibvirtDaemonLocator.IsAlive(RealProcWith(_host), pid));
    }

    [Fact]
    public void ForceRestartsTheDaemonWithItsCommandLineDespiteActiveJobs()
    {
        var pid = StartFakeDaemon();
        var paths = RealProcWith(_host);
        var conf = _host.Write("qemu.conf", "user = \"root\"\n");
        var plan = CoreDumpConfigurator.PlanEnable(new CoreDumpRequest
        {
            ConfigPath = conf,
            IncludeGuestMemory = true,
            RestartDaemon = true,
            Force = true,
            DaemonProcessId = pid,
            Paths = paths,
            ActiveJobs = [new ActiveDomainJob("vm1", "dump")],
        });
        Assert.True(plan.Setting.RestartNeeded);
        var clock = Stopwatch.StartNew();
        var setting = plan.Apply(TestContext.Current.CancellationToken);
        clock.Stop();

        var replacement = LibvirtDaemonLocator.EnumerateProcesses(paths)
            .Where(p => p.Comm == "libvirtd" && p.Pid != pid && LibvirtDaemonLocator.ReadCommandLine(paths, p.Pid).FirstOrDefault() == Path.Combine(_host.Root, "libvirtd"))
            .Select(p => p.Pid).Single();
        _started.Add(replacement);
        Assert.False(LibvirtDaemonLocator.IsAlive(paths, pid));
        Assert.Equal(new[] { "3600" }, LibvirtDaemonLocator.ReadCommandLine(paths, replacement)[1..]);
        Assert.Contains("max_core = \"unlimited\"", File.ReadAllText(conf));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"restart took {clock.Elapsed}");
        TestContext.Current.SendDiagnosticMessage($"Process restart of a stand-in daemon took {clock.Elapsed.TotalMilliseconds:0} ms");
        Assert.Throws<VmDebugException>(() => LibvirtDaemonLocator.Detect(paths, Environment.ProcessId));
    }
}
