using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using VmDebug.Engine.Fleet;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Fleet;

/// <summary>
/// The watcher's limits on one crash-looping guest and one bystander: --keep-free-bytes on a small tmpfs, Ctrl+C in
/// the middle of a capture (the real CLI), then --after reset with a crash-loop limit and a size cap over an archive
/// that already holds old crashes.
/// </summary>
public sealed class WatcherLimitsTests
{
    private const long Cap = 60L << 20;
    private const int OldCrashes = 3;

    [Fact]
    public async Task KeepFreeRefusesCtrlCLeavesNoHalfFolderCrashLoopsAreCappedAndTheArchiveStaysUnderItsSize()
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = new TempDirectory("vmdebug-limits-");
        await using var looping = await WatcherRun.StartGuestAsync(Path.Combine(root.Path, "loop"), panicAfterSeconds: 1, rebootOnReset: true, cancellationToken: ct);
        await using var bystander = await WatcherRun.StartGuestAsync(Path.Combine(root.Path, "other"), cancellationToken: ct);

        // 1. --keep-free-bytes larger than the tmpfs: no dump starts, and the event names the numbers.
        using (var tmpfs = await TmpfsMount.CreateAsync("size=16m"))
        {
            var small = Path.Combine(tmpfs.Path, "archive");
            await using var watcher = new WatcherRun(new WatchOptions
            {
                Sockets = [looping.QmpSocketPath],
                ArchiveDirectory = small,
                KeepFreeBytes = 1L << 30,
            }, ct);
            var skipped = await watcher.WaitForAsync(e => e.Kind == WatchEventKind.CaptureSkipped, TimeSpan.FromSeconds(180), "a skipped capture");
            Assert.Equal(WatchEventLevel.Error, skipped.Level);
            Assert.Equal("loop", skipped.Guest);
            var free = new DriveInfo(small).AvailableFreeSpace;
            Assert.Contains($"has {free} bytes free", skipped.Message, StringComparison.Ordinal);
            Assert.Contains($"up to {256L << 20} bytes", skipped.Message, StringComparison.Ordinal);
            Assert.Contains($"keeps {1L << 30} bytes", skipped.Message, StringComparison.Ordinal);
            await watcher.StopAsync();
            Assert.DoesNotContain(watcher.All, e => e.Kind == WatchEventKind.CaptureStarted);
            Assert.False(Directory.Exists(Path.Combine(small, "loop")), "a skipped capture creates no folder");
        }

        // 2. Ctrl+C (SIGINT) to vmdebug watch mid-capture: no folder, hidden or final, is left.
        var interrupted = Path.Combine(root.Path, "interrupted");
        var (exitCode, lines) = await InterruptMidCaptureAsync(looping.QmpSocketPath, interrupted, ct);
        Assert.True(exitCode is 0 or 130, $"exit {exitCode}: {string.Join('\n', lines)}");
        Assert.DoesNotContain(lines, l => l.Contains("CaptureCompleted", StringComparison.Ordinal));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(interrupted, "loop")));

        // 3. --after reset on a guest that panics again at each boot, with old crashes in an archive capped at 60 MiB.
        var archive = Path.Combine(root.Path, "archive");
        var old = WriteOldCrashes(archive);
        await using (var watcher = new WatcherRun(new WatchOptions
        {
            Sockets = [looping.QmpSocketPath, bystander.QmpSocketPath],
            ArchiveDirectory = archive,
            After = AfterCaptureAction.Reset,
            MaxCrashesPerGuest = 2,
            CrashWindow = TimeSpan.FromMinutes(10),
            MaxArchiveBytes = Cap,
            MaxParallel = 2,
        }, ct))
        {
            var limited = await watcher.WaitForAsync(e => e is { Kind: WatchEventKind.CrashLoopLimited, Level: WatchEventLevel.Warning },
                TimeSpan.FromSeconds(300), "the crash-loop warning");
            Assert.Equal("loop", limited.Guest);

            // The others are still served while the loop goes on.
            await WatcherRun.WaitBootedAsync(bystander, ct);
            await WatcherRun.InjectNmiAsync(bystander.WorkDirectory, ct);
            await watcher.WaitForAsync(e => e is { Kind: WatchEventKind.CaptureCompleted, Guest: "other" }, TimeSpan.FromSeconds(180), "the bystander archived");
            await watcher.WaitForAsync(e => e is { Kind: WatchEventKind.CrashLoopLimited, Level: WatchEventLevel.Information },
                TimeSpan.FromSeconds(180), "a second crash not dumped");
            await watcher.StopAsync();

            var loopCaptures = watcher.All.Where(e => e is { Kind: WatchEventKind.CaptureCompleted, Guest: "loop" }).Select(e => e.Crash!).ToList();
            Assert.Equal(2, loopCaptures.Count);
            Assert.Single(watcher.All, e => e is { Kind: WatchEventKind.CrashLoopLimited, Level: WatchEventLevel.Warning });
            var suppressed = watcher.All.Count(e => e.Kind == WatchEventKind.CrashLoopLimited);
            Assert.Equal(suppressed, CrashArchive.Read(loopCaptures[1].Path).SuppressedCrashes);
            Assert.True(suppressed >= 2);
            Assert.True(watcher.All.Count(e => e is { Kind: WatchEventKind.AfterAction, Level: WatchEventLevel.Information }) >= 3);

            var removed = watcher.All.Where(e => e is { Kind: WatchEventKind.RetentionRemoved, Level: WatchEventLevel.Information }).ToList();
            // Oldest first: how many go depends on the dumps' sizes, so the order and the cap are what is checked.
            var removedOld = removed.Select(e => e.Source!).Where(old.Contains).ToList();
            Assert.NotEmpty(removedOld);
            Assert.Equal(old.Take(removedOld.Count), removedOld);
            Assert.All(removedOld, folder => Assert.False(Directory.Exists(folder), folder));
            Assert.All(old.Skip(removedOld.Count), folder => Assert.True(Directory.Exists(folder), folder));
            var total = new CrashArchive(archive).TotalBytes();
            Assert.True(total <= Cap, $"archive holds {total} bytes, cap {Cap}");
            Assert.Equal(3 + OldCrashes - removed.Count, new CrashArchive(archive).List().Count);
        }
    }

    /// <summary>Old crashes of a guest "old", 15 MiB each, as a previous watcher would have left them.</summary>
    private static List<string> WriteOldCrashes(string archive)
    {
        var folders = new List<string>();
        for (var i = 0; i < OldCrashes; i++)
        {
            var time = new DateTimeOffset(2020, 1, 1, 0, i, 0, TimeSpan.Zero);
            var folder = ArchivedCrash.Write(archive, "old", time, 15 << 20);
            folders.Add(folder);
        }
        return folders;
    }

    /// <summary>Runs vmdebug watch --json and sends SIGINT as soon as it says a capture started.</summary>
    private static async Task<(int ExitCode, List<string> Lines)> InterruptMidCaptureAsync(string socket, string archive, CancellationToken ct)
    {
        var start = new ProcessStartInfo(Support.Cli.ProgramPath) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in new[] { "watch", "--socket", socket, "--archive", archive, "--json", "--timeout", "240" })
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var lines = new List<string>();
        var signalled = false;
        while (await process.StandardError.ReadLineAsync(ct) is { } line)
        {
            lines.Add(line);
            if (!signalled && JsonNode.Parse(line)?["kind"]?.GetValue<string>() == "CaptureStarted")
            {
                signalled = true;
                await TestEnvironment.RunAsync("kill", ["-INT", process.Id.ToString(CultureInfo.InvariantCulture)]);
            }
        }
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(deadline.Token);
        Assert.True(signalled, "no capture started: " + string.Join('\n', lines));
        return (process.ExitCode, lines);
    }
}
