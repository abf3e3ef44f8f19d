using System.Diagnostics;
using VmDebug.Engine.Fleet;
using VmDebug.Engine.Libvirt;
using VmDebug.Engine.Nmi;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Fleet;

/// <summary>
/// A watcher of every domain of the private libvirtd while that daemon is stopped by its PID and started again on the
/// same socket: it says so on the way down and back, then archives a domain that ran across the restart and one
/// started after it, with metadata checked against makedumpfile's log of the dump and the vmlinux's build id.
/// </summary>
[Collection(LibvirtDaemonCollection.Name)]
public sealed class LibvirtRestartWatchTests(LibvirtDaemonFixture daemon)
{
    [Fact]
    public async Task AfterLibvirtdIsStoppedAndStartedAgainDomainEventsResumeAndBothOldAndNewDomainsAreArchived()
    {
        daemon.SkipIfUnavailable();
        var ct = TestContext.Current.CancellationToken;
        var image = TestEnvironment.GuestWithDebugSymbols;
        var readelf = TestEnvironment.RequireTool("readelf", "binutils");
        TestEnvironment.RequireTool("makedumpfile", "makedumpfile");
        using var root = new TempDirectory("vmdebug-libvirtd-restart-");
        var archive = Path.Combine(root.Path, "archive");
        var console = Path.Combine(root.Path, "survivor.console");
        var survivor = TestDomains.UniqueName("survivor");
        var latecomer = TestDomains.UniqueName("latecomer");
        using (var connection = daemon.Connect())
        {
            using var domain = connection.DefineDomain(TestDomains.PanickingGuest(survivor, image, panicAfterSeconds: 100_000, memoryMiB: 256,
                markers: 1, consoleLog: console, kernelArguments: "sysctl.kernel.unknown_nmi_panic=1"));
            domain.Create();
        }
        try
        {
            await using var watcher = new WatcherRun(new WatchOptions
            {
                AllDomains = true,
                ConnectionUri = daemon.Uri,
                ArchiveDirectory = archive,
                Format = DumpFormat.KdumpZlib, // makedumpfile, the peer reader, reads zlib and not zstd
                DumpLevel = 31,
                MaxParallel = 2,
            }, ct);
            await watcher.WaitForAsync(e => e is { Kind: WatchEventKind.Watching, Guest: null } && e.Source == daemon.Uri, TimeSpan.FromSeconds(60), "watching libvirt");

            var before = daemon.DaemonProcessId;
            await daemon.StopLibvirtdAsync();
            var lost = await watcher.WaitForAsync(e => e is { Kind: WatchEventKind.SourceUnavailable, Level: WatchEventLevel.Warning } && e.Source == daemon.Uri,
                TimeSpan.FromSeconds(30), "the lost connection said");
            Assert.Contains("was lost", lost.Message, StringComparison.Ordinal);
            // Down long enough for reconnection attempts to fail.
            await Task.Delay(TimeSpan.FromSeconds(5), ct);
            var restart = Stopwatch.StartNew();
            await daemon.StartLibvirtdAsync();
            Assert.NotEqual(before, daemon.DaemonProcessId);
            var back = await watcher.WaitForAsync(e => e is { Kind: WatchEventKind.Watching, Guest: null } && e.Message.StartsWith("Reconnected", StringComparison.Ordinal),
                TimeSpan.FromSeconds(60), "the reconnection said");
            TestContext.Current.SendDiagnosticMessage($"the watcher said it reconnected {restart.Elapsed.TotalSeconds:0.0} s after libvirtd's start began ({back.Message})");

            // The domain that ran across the restart: its panic comes through the new daemon's events.
            await WaitForConsoleAsync(console, "vmdebug marker 1", ct);
            var nmi = await GuestNmiSender.SendAsync(daemon.Uri, survivor, ct);
            Assert.Equal("running", nmi.StateBefore);
            // A domain defined and started after the restart is watched too.
            using (var connection = daemon.Connect())
            {
                using var domain = connection.DefineDomain(TestDomains.PanickingGuest(latecomer, image, panicAfterSeconds: 1, memoryMiB: 256, markers: 1));
                domain.Create();
            }

            var buildId = (await TestEnvironment.RunAsync(readelf, ["-n", image.Vmlinux!])).Stdout.Split('\n')
                .Single(l => l.Contains("Build ID:", StringComparison.Ordinal)).Split(':')[1].Trim();
            foreach (var (name, panic) in new[] { (survivor, "NMI"), (latecomer, "sysrq triggered crash") })
            {
                var crash = (await watcher.WaitForAsync(e => e.Kind == WatchEventKind.CaptureCompleted && e.Guest == name,
                    TimeSpan.FromSeconds(240), $"{name} archived")).Crash!;
                TestContext.Current.SendDiagnosticMessage($"{name}: captured in {crash.CaptureSeconds:0.0} s, {crash.DumpBytes} bytes");
                Assert.Equal(Path.Combine(archive, name, CrashArchive.StampOf(crash.PanicTime)), crash.Path);
                Assert.True(crash.PanicTime >= back.Time.AddSeconds(-1), $"{name} panicked at {crash.PanicTime:O}, before the reconnection at {back.Time:O}");
                var dump = Path.Combine(crash.Path, crash.DumpFile);
                var dmesg = await PeerTools.MakedumpfileDmesgAsync(dump);
                var panicLine = dmesg.Split('\n').Last(l => l.Contains("Kernel panic - not syncing: ", StringComparison.Ordinal));
                Assert.Equal(panicLine[(panicLine.IndexOf("not syncing: ", StringComparison.Ordinal) + "not syncing: ".Length)..].TrimEnd(), crash.PanicMessage);
                Assert.Contains(panic, crash.PanicMessage, StringComparison.Ordinal);
                Assert.Equal("Panicked", crash.PanicKind);
                Assert.Equal(image.Release, crash.KernelRelease);
                Assert.Equal(buildId, crash.BuildId);
                Assert.Equal(new FileInfo(dump).Length, crash.DumpBytes);
                Assert.Equal(256UL << 20, crash.GuestRamBytes);
                Assert.Contains($"<name>{name}</name>", File.ReadAllText(Path.Combine(crash.Path, "domain.xml")), StringComparison.Ordinal);
                Assert.Equal(crash.Guest, CrashArchive.Read(crash.Path).Guest);
            }
            Assert.Empty(Directory.EnumerateDirectories(archive, ".partial-*", SearchOption.AllDirectories));
        }
        finally
        {
            if (daemon.DaemonProcessId is null)
            {
                await daemon.StartLibvirtdAsync(); // the collection's other tests need it
            }
            using var cleanup = daemon.Connect();
            foreach (var name in new[] { survivor, latecomer })
            {
                LibvirtDomain domain;
                try
                {
                    domain = cleanup.LookupDomain(name);
                }
                catch (LibvirtException)
                {
                    continue; // not defined: the test ended before
                }
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
    }

    private static async Task WaitForConsoleAsync(string console, string text, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(120));
        while (!(File.Exists(console) && File.ReadAllText(console).Contains(text, StringComparison.Ordinal)))
        {
            await Task.Delay(250, deadline.Token);
        }
    }
}
