using VmDebug.Engine.Fleet;
using VmDebug.Engine.Guest;
using VmDebug.Engine.Qmp;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Fleet;

public sealed class HungGuestArchiveTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_hung_guest_gets_an_nmi_panics_and_is_archived()
    {
        TestEnvironment.RequireTool("makedumpfile", "makedumpfile");
        using var root = new TempDirectory("vmdebug-nmi-watch-");
        var directory = Path.Combine(root.Path, "hung");
        var archive = Path.Combine(root.Path, "archive");
        await using var guest = await WatchedGuest.StartAsync(directory, TestEnvironment.Guest, HungGuest.LaunchOptions, Token);
        await using var watcher = new WatcherRun(new WatchOptions
        {
            Sockets = [guest.QmpSocketPath],
            ArchiveDirectory = archive,
            Format = DumpFormat.KdumpZlib, // makedumpfile, the peer reader here, reads zlib and not zstd
            DumpLevel = 31,
        }, Token);
        await watcher.WaitForAsync(e => e is { Kind: WatchEventKind.Watching, Guest: "hung" }, TimeSpan.FromSeconds(60), "watching hung");
        await HungGuest.WaitUntilHungAsync(guest.ReadConsole, Token);
        await using (var control = await QmpClient.ConnectAsync(WatcherRun.ControlSocket(directory), null, Token))
        {
            Assert.Equal("running", (await control.QueryStatusAsync(null, Token)).Status);
        }

        var (exit, _, stderr) = await Support.Cli.RunAsync("nmi", "--socket", WatcherRun.ControlSocket(directory));
        Assert.True(exit == 0, stderr);
        var crash = await WatchedGuest.CaptureAsync(watcher, "hung");

        Assert.Equal(Path.Combine(archive, "hung"), Path.GetDirectoryName(crash.Path));
        Assert.Contains("NMI", crash.PanicMessage);
        var dump = Path.Combine(crash.Path, crash.DumpFile);
        Assert.Equal(new FileInfo(dump).Length, crash.DumpBytes);
        var dmesg = await PeerTools.MakedumpfileDmesgAsync(dump);
        Assert.Contains($"Kernel panic - not syncing: {crash.PanicMessage}", dmesg);
        Assert.True(File.Exists(Path.Combine(crash.Path, "crash.json")));
    }
}

/// <summary>The watcher fetches the panicked kernel's vmlinux from a real debuginfod -U serving the kernel's -dbg .deb.</summary>
[Collection(DebuginfodCollection.Name)]
public sealed class DebuginfodArchiveTests(DebuginfodFixture debuginfod)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_vmlinux_lands_in_the_archives_build_id_cache_and_crash_reads_the_archived_vmcore_with_it()
    {
        var server = debuginfod.Server;
        TestEnvironment.RequireTool("crash", "crash");
        var readelf = TestEnvironment.RequireTool("readelf", "binutils");
        using var root = new TempDirectory("vmdebug-debuginfod-watch-");
        var directory = Path.Combine(root.Path, "panicky");
        var archive = Path.Combine(root.Path, "archive");
        var image = TestEnvironment.GuestWithDebugSymbols;
        Assert.Equal(debuginfod.KernelRelease, image.Release);
        await using var guest = await WatchedGuest.StartAsync(directory, image,
            new GuestLaunchOptions { MemoryMiB = 256, Markers = 1, PanicAfterSeconds = 2 }, Token);
        await using var watcher = new WatcherRun(new WatchOptions
        {
            Sockets = [guest.QmpSocketPath],
            ArchiveDirectory = archive,
            DebuginfodServers = [server.Url],
        }, Token);

        var crash = await WatchedGuest.CaptureAsync(watcher, "panicky");

        Assert.NotNull(crash.BuildId);
        var cached = Path.Combine(archive, ".build-id", crash.BuildId!, "vmlinux");
        Assert.True(File.Exists(cached), $"no {cached}; events: {string.Join(" | ", watcher.All)}");
        Assert.NotNull(crash.Vmlinux);
        // crash.json names it relative to the crash folder or to the archive root.
        Assert.Contains(Path.GetFullPath(cached), new[] { crash.Path, archive }.Select(b => Path.GetFullPath(Path.Combine(b, crash.Vmlinux!))));
        var (_, notes, _) = await TestEnvironment.RunAsync(readelf, ["-n", cached]);
        Assert.Contains($"Build ID: {crash.BuildId}", notes);
        var log = await PeerTools.CrashLogAsync(cached, Path.Combine(crash.Path, crash.DumpFile));
        Assert.Contains($"Kernel panic - not syncing: {crash.PanicMessage}", log);
        Assert.Contains("vmdebug marker 1", log);
    }
}
