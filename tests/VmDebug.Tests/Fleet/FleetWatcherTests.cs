using VmDebug.Engine.CrashConfiguration;
using VmDebug.Engine.Fleet;
using VmDebug.Engine.Libvirt;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Fleet;

/// <summary>
/// One watcher over two QMP guests found by glob and the domains of the private libvirtd: captures, metadata checked
/// against makedumpfile and the vmlinux, and survival of a killed QEMU, a new socket and a libvirtd restart.
/// </summary>
[Collection(LibvirtDaemonCollection.Name)]
public sealed class FleetWatcherTests(LibvirtDaemonFixture daemon)
{
    private static void Log(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    [Fact]
    public async Task OneWatcherArchivesTwoGuestsPanickingInTheSameSecondLeavesTheThirdAloneAndSurvivesQemuAndLibvirtdGoingAway()
    {
        daemon.SkipIfUnavailable();
        var ct = TestContext.Current.CancellationToken;
        var image = TestEnvironment.GuestWithDebugSymbols;
        var readelf = TestEnvironment.RequireTool("readelf", "binutils");
        TestEnvironment.RequireTool("makedumpfile", "makedumpfile");
        using var root = new TempDirectory("vmdebug-fleet-");
        var guests = Path.Combine(root.Path, "guests");
        var archive = Path.Combine(root.Path, "archive");

        await using var alpha = await WatcherRun.StartGuestAsync(Path.Combine(guests, "alpha"), cancellationToken: ct);
        using var connection = daemon.Connect();
        var quiet = TestDomains.UniqueName("quiet");
        using var untouched = connection.DefineDomain(TestDomains.PanickingGuest(quiet, image, panicAfterSeconds: 100_000, memoryMiB: 256));
        try
        {
            untouched.Create();
            await using var watcher = new WatcherRun(new WatchOptions
            {
                SocketGlob = Path.Combine(guests, "*", "qmp.sock"),
                AllDomains = true,
                ConnectionUri = daemon.Uri,
                ArchiveDirectory = archive,
                Format = DumpFormat.KdumpZlib, // makedumpfile reads zlib, not zstd
                DumpLevel = 31,
                MaxParallel = 2,
            }, ct);
            await watcher.WaitForAsync(e => e is { Kind: WatchEventKind.Watching, Guest: "alpha" }, TimeSpan.FromSeconds(30), "watching alpha");
            await watcher.WaitForAsync(e => e is { Kind: WatchEventKind.Watching, Guest: null, Source: var s } && s == daemon.Uri, TimeSpan.FromSeconds(30), "watching libvirt");

            // A socket appearing under the glob is picked up within 5 s.
            await using var beta = await WatcherRun.StartGuestAsync(Path.Combine(guests, "beta"), cancellationToken: ct);
            var socketSeen = DateTimeOffset.UtcNow;
            var added = await watcher.WaitForAsync(e => e is { Kind: WatchEventKind.SourceAdded, Guest: "beta" }, TimeSpan.FromSeconds(10), "beta picked up");
            TestContext.Current.SendDiagnosticMessage($"beta's socket picked up {(added.Time - socketSeen).TotalSeconds:0.0} s after it was there");
            Assert.True(added.Time - socketSeen <= TimeSpan.FromSeconds(5), $"beta found after {(added.Time - socketSeen).TotalSeconds:0.0} s");
            await watcher.WaitForAsync(e => e is { Kind: WatchEventKind.Watching, Guest: "beta" }, TimeSpan.FromSeconds(30), "watching beta");

            await Task.WhenAll(WatcherRun.WaitBootedAsync(alpha, ct), WatcherRun.WaitBootedAsync(beta, ct));
            await Task.WhenAll(WatcherRun.InjectNmiAsync(alpha.WorkDirectory, ct), WatcherRun.InjectNmiAsync(beta.WorkDirectory, ct));
            var crashes = new List<GuestCrash>();
            foreach (var name in new[] { "alpha", "beta" })
            {
                var done = await watcher.WaitForAsync(e => e.Kind == WatchEventKind.CaptureCompleted && e.Guest == name, TimeSpan.FromSeconds(240), $"{name} archived");
                crashes.Add(done.Crash!);
            }
            Assert.True((crashes[0].PanicTime - crashes[1].PanicTime).Duration() < TimeSpan.FromSeconds(1),
                $"panics {crashes[0].PanicTime:O} and {crashes[1].PanicTime:O} were meant to fall within one second");

            var buildId = (await TestEnvironment.RunAsync(readelf, ["-n", image.Vmlinux!])).Stdout.Split('\n')
                .Single(l => l.Contains("Build ID:", StringComparison.Ordinal)).Split(':')[1].Trim();
            foreach (var crash in crashes)
            {
                Assert.Equal(Path.Combine(archive, crash.Guest, CrashArchive.StampOf(crash.PanicTime)), crash.Path);
                var dump = Path.Combine(crash.Path, crash.DumpFile);
                var dmesg = await PeerTools.MakedumpfileDmesgAsync(dump);
                var panicLine = dmesg.Split('\n').Last(l => l.Contains("Kernel panic - not syncing: ", StringComparison.Ordinal));
                Assert.Equal(panicLine[(panicLine.IndexOf("not syncing: ", StringComparison.Ordinal) + "not syncing: ".Length)..].TrimEnd(), crash.PanicMessage);
                Assert.Contains("NMI", crash.PanicMessage, StringComparison.Ordinal);
                Assert.Equal(image.Release, crash.KernelRelease);
                Assert.Equal(buildId, crash.BuildId);
                Assert.Equal(new FileInfo(dump).Length, crash.DumpBytes);
                Assert.Equal(256UL << 20, crash.GuestRamBytes);
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(dump));
                foreach (var file in new[] { "crash.json", "dmesg.txt", "vmcoreinfo.txt", "qemu.txt" })
                {
                    Assert.True(File.Exists(Path.Combine(crash.Path, file)), $"{file} missing in {crash.Path}");
                }
                Assert.Contains("qemu-system-x86_64", File.ReadAllText(Path.Combine(crash.Path, "qemu.txt")), StringComparison.Ordinal);
                Assert.Equal(crash.Guest, CrashArchive.Read(crash.Path).Guest);
            }
            Assert.Empty(Directory.EnumerateDirectories(archive, ".partial-*", SearchOption.AllDirectories));

            // A guest's QEMU killed: said, and the others are still served.
            alpha.Signal(9);
            await watcher.WaitForAsync(e => e is { Kind: WatchEventKind.SourceUnavailable, Guest: "alpha" }, TimeSpan.FromSeconds(30), "alpha's QEMU gone");

            // libvirtd restarted: the watcher reconnects and subscribes again.
            var before = daemon.DaemonProcessId;
            var running = LibvirtDaemonLocator.Detect(HostPaths.Default, before, daemon.SocketPath)!;
            DaemonRestartPlan.Create(running, [], force: true).Apply(TimeSpan.FromSeconds(60), ct);
            Assert.NotEqual(before, daemon.DaemonProcessId);
            await watcher.WaitForAsync(e => e is { Kind: WatchEventKind.Watching, Guest: null } && e.Message.StartsWith("Reconnected", StringComparison.Ordinal),
                TimeSpan.FromSeconds(60), "the libvirt reconnection");

            using var check = daemon.Connect();
            using var quietAgain = check.LookupDomain(quiet);
            Assert.Equal(LibvirtDomainState.Running, quietAgain.GetState().State);
            Assert.False(Directory.Exists(Path.Combine(archive, quiet)));
            Assert.DoesNotContain(watcher.All, e => e.Guest == quiet);
        }
        finally
        {
            await daemon.RemoveDomainAsync(quiet, Log);
        }
    }
}
