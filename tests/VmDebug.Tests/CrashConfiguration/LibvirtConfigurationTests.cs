using System.Diagnostics;
using System.Text.Json.Nodes;
using VmDebug.Engine.CrashConfiguration;
using VmDebug.Engine.Libvirt;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.CrashConfiguration;

/// <summary>
/// Enable-QemuCoreDump and Set-GuestPanicDevice against the private libvirtd (<see cref="LibvirtDaemonFixture"/>):
/// its own qemu.conf, a real daemon restart, real QEMU, a real guest panic, and crash reading libvirt's auto-dump.
/// Each test puts the daemon's qemu.conf back and restarts it, so later tests see the fixture's configuration.
/// </summary>
[Collection(LibvirtDaemonCollection.Name)]
public sealed class LibvirtConfigurationTests(LibvirtDaemonFixture daemon) : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("vmdebug-config-test-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private static void Log(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    private static async Task<(int ExitCode, string Stdout, string Stderr, TimeSpan Took)> RunCliAsync(params string[] arguments)
    {
        var clock = Stopwatch.StartNew();
        var (exit, stdout, stderr) = await Support.Cli.RunAsync(arguments);
        Log($"vmdebug {string.Join(' ', arguments)}: exit {exit} in {clock.ElapsedMilliseconds} ms");
        return (exit, stdout, stderr, clock.Elapsed);
    }

    private static JsonNode Json((int ExitCode, string Stdout, string Stderr, TimeSpan Took) run)
    {
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}: {run.Stderr}");
        return JsonNode.Parse(run.Stdout)!;
    }

    [Fact]
    public async Task CoreDumpAndPanicDeviceTakeEffectThroughARestartedDaemonAndThePanicLeavesADumpCrashReads()
    {
        daemon.SkipIfUnavailable();
        var guest = TestEnvironment.GuestWithDebugSymbols;
        Assert.NotNull(guest.Vmlinux);
        var dumps = Directory.CreateDirectory(Path.Combine(_scratch, "dumps")).FullName;
        var conf = daemon.QemuConfPath;
        var originalConf = File.ReadAllBytes(conf);
        var name = TestDomains.UniqueName("autodump");
        using (var connection = daemon.Connect())
        {
            connection.DefineDomain(TestDomains.PanickingGuest(name, guest, panicAfterSeconds: 2)).Dispose();
        }

        try
        {
            var set = Json(await RunCliAsync("panic-device", "set", "--domain", name, "--connect", daemon.Uri, "--on-crash", "coredump-destroy",
                "--config", conf, "--auto-dump-path", dumps, "--json"));
            Assert.Equal("CoredumpDestroy", (string?)set["onCrash"]);
            Assert.Equal("Isa", (string?)set["panicModel"]); // the domain's own ISA device, left as it was
            Assert.True((bool)set["dumpDirectory"]!["writableByUser"]!);

            var before = daemon.DaemonProcessId;
            var enable = await RunCliAsync("coredump", "enable", "--config", conf, "--guest-memory", "--connect", daemon.Uri, "--restart-daemon", "--json");
            var enabled = Json(enable);
            var after = daemon.DaemonProcessId;
            Log($"daemon PID {before} -> {after}; enable with restart took {enable.Took.TotalMilliseconds:0} ms");
            Assert.NotNull(after);
            Assert.NotEqual(before, after);
            Assert.Equal(after, (int?)enabled["daemon"]!["processId"]);
            Assert.Equal("Process", (string?)enabled["daemon"]!["serviceManager"]);
            Assert.False((bool)enabled["restartNeeded"]!);
            Assert.Equal("unlimited", (string?)enabled["maxCore"]);

            using var connection = daemon.Connect();
            var configuration = GuestPanicCommands.Get(new GuestPanicRequest { Domain = name, ConnectionUri = daemon.Uri, ConfigPath = conf });
            Assert.Equal((GuestPanicModel.Isa, CrashAction.CoredumpDestroy, true), (configuration.PanicModel, configuration.OnCrash, configuration.VmcoreInfo));

            using var domain = connection.LookupDomain(name);
            using var events = connection.SubscribeLifecycleEvents(domain);
            var clock = Stopwatch.StartNew();
            domain.Create();
            var qemu = daemon.QemuProcessId(name);
            var commandLine = File.ReadAllText($"/proc/{qemu}/cmdline").Replace('\0', ' ');
            Assert.Contains("dump-guest-core=on", commandLine);
            Assert.Matches(@"Max core file size\s+unlimited\s+unlimited", File.ReadAllText($"/proc/{qemu}/limits"));

            // coredump-destroy: libvirt dumps the panicked guest, then destroys it.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(TimeSpan.FromMinutes(3));
            while (true)
            {
                var e = await events.Events.ReadAsync(timeout.Token);
                Log($"{clock.ElapsedMilliseconds} ms: {e}");
                if (e.Event == LibvirtLifecycleEventType.Stopped)
                {
                    break;
                }
            }
            var dump = Assert.Single(Directory.GetFiles(dumps));
            Log($"auto-dump {Path.GetFileName(dump)}: {new FileInfo(dump).Length} bytes, {clock.ElapsedMilliseconds} ms after start");
            Assert.Contains(name[..20], Path.GetFileName(dump));
            Assert.InRange(new FileInfo(dump).Length, 512L << 20, (512L + 64) << 20);

            clock.Restart();
            var log = await PeerTools.CrashLogAsync(guest.Vmlinux!, dump);
            Log($"crash log: {clock.ElapsedMilliseconds} ms");
            Assert.Contains("Kernel panic - not syncing", log);
            Assert.Contains("sysrq", log);
        }
        finally
        {
            await RestoreDaemonConfigAsync(originalConf);
            await daemon.RemoveDomainAsync(name, Log);
        }
    }

    [Fact]
    public async Task RestartIsRefusedWhileADumpRunsNamingTheDomainAndProceedsWithForce()
    {
        daemon.SkipIfUnavailable();
        var conf = daemon.QemuConfPath;
        var originalConf = File.ReadAllBytes(conf);
        var name = TestDomains.UniqueName("busy");
        using (var connection = daemon.Connect())
        using (var defined = connection.DefineDomain(TestDomains.Minimal(name, Guid.NewGuid(), memoryMiB: 2048)))
        {
            defined.Create();
        }

        Task? dump = null;
        try
        {
            dump = LibvirtDumpOperation.DumpAsync(daemon.Uri, name, Path.Combine(_scratch, "busy.elf"), LibvirtDumpFormat.Raw, null,
                TestContext.Current.CancellationToken);
            using (var observer = daemon.Connect())
            {
                var clock = Stopwatch.StartNew();
                while (observer.GetActiveJobs().Count == 0)
                {
                    Assert.False(dump.IsCompleted, "the dump ended before libvirt reported its job");
                    Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "no active job appeared");
                    await Task.Delay(100, TestContext.Current.CancellationToken);
                }
            }

            var before = daemon.DaemonProcessId;
            var refused = await RunCliAsync("coredump", "enable", "--config", conf, "--guest-memory", "--connect", daemon.Uri, "--restart-daemon", "--json");
            Assert.Equal(10, refused.ExitCode); // ResourceBusy
            var error = JsonNode.Parse(refused.Stderr)!["error"]!;
            Log((string?)error["message"] ?? "");
            Assert.Equal("DaemonRestartRefusedActiveJobs", (string?)error["id"]);
            Assert.Contains($"domain '{name}' has an active dump job", (string?)error["message"]);
            Assert.Equal(originalConf, File.ReadAllBytes(conf));
            Assert.Equal(before, daemon.DaemonProcessId);
            Assert.False(dump.IsCompleted, "the refusal must be seen while the dump still runs");

            var forced = Json(await RunCliAsync("coredump", "enable", "--config", conf, "--guest-memory", "--connect", daemon.Uri,
                "--restart-daemon", "--force", "--json"));
            Assert.Contains(forced["warnings"]!.AsArray(), w => ((string?)w)!.Contains($"dump on domain '{name}'", StringComparison.Ordinal));
            Assert.NotEqual(before, daemon.DaemonProcessId);
            Assert.Contains("dump_guest_core = 1", File.ReadAllText(conf));
        }
        finally
        {
            if (dump is not null)
            {
                try { await dump; }
                catch (LibvirtException e) { Log($"dump ended by the restart: {e.Message}"); }
            }
            await RestoreDaemonConfigAsync(originalConf);
            await daemon.RemoveDomainAsync(name, Log);
        }
    }

    [Fact]
    public async Task DomainDumpCoreIsSetOnTheRunningDomainsPersistentDefinitionForItsNextBoot()
    {
        daemon.SkipIfUnavailable();
        var conf = Path.Combine(_scratch, "qemu.conf");
        File.Copy(daemon.QemuConfPath, conf);
        var name = TestDomains.UniqueName("dumpcore");
        using (var connection = daemon.Connect())
        using (var defined = connection.DefineDomain(TestDomains.Minimal(name, Guid.NewGuid(), memoryMiB: 384)))
        {
            defined.Create();
        }

        try
        {
            var request = new CoreDumpRequest { ConfigPath = conf, Domain = name, ConnectionUri = daemon.Uri };
            using (var change = CoreDumpCommands.PlanEnable(request))
            {
                Assert.Contains("dumpCore='on'", change.Describe());
                Assert.Contains($"domain '{name}'", change.Target);
                var setting = change.Apply(TestContext.Current.CancellationToken);
                Assert.Equal(384L << 20, setting.LargestGuestRamBytes);
                Assert.Contains(setting.Warnings, w => w.Contains("next boot", StringComparison.Ordinal));
            }
            using (var connection = daemon.Connect())
            using (var domain = connection.LookupDomain(name))
            {
                Assert.Contains("dumpCore='on'", domain.GetXmlDesc(LibvirtDomainXmlFlags.Inactive));
                Assert.DoesNotContain("dumpCore", domain.GetXmlDesc()); // the running definition waits for the next boot
            }
            using (var again = CoreDumpCommands.PlanEnable(request))
            {
                Assert.False(again.HasChanges);
            }

            var shown = Json(await RunCliAsync("coredump", "show", "--config", conf, "--connect", daemon.Uri, "--json"));
            Assert.Equal(384L << 20, (long?)shown["largestGuestRamBytes"]);

            using (var disable = CoreDumpCommands.PlanDisable(request))
            {
                disable.Apply(TestContext.Current.CancellationToken);
            }

            using (var connection = daemon.Connect())
            using (var domain = connection.LookupDomain(name))
            {
                Assert.DoesNotContain("dumpCore", domain.GetXmlDesc(LibvirtDomainXmlFlags.Inactive));
            }
        }
        finally
        {
            await daemon.RemoveDomainAsync(name, Log);
        }
    }

    /// <summary>Puts the fixture's qemu.conf back and restarts the daemon with it (an engine call, as a cmdlet makes it).</summary>
    private async Task RestoreDaemonConfigAsync(byte[] original)
    {
        await File.WriteAllBytesAsync(daemon.QemuConfPath, original);
        using var change = CoreDumpCommands.PlanDisable(new CoreDumpRequest
        {
            ConfigPath = daemon.QemuConfPath,
            ConnectionUri = daemon.Uri,
            RestartDaemon = true,
            Force = true,
        });
        var clock = Stopwatch.StartNew();
        var setting = change.Apply(TestContext.Current.CancellationToken);
        Log($"restore + restart: {clock.ElapsedMilliseconds} ms, daemon now {setting.Daemon}");
        Assert.False(setting.RestartNeeded);
        using var connection = daemon.Connect();
        Assert.True(connection.IsAlive);
    }
}
