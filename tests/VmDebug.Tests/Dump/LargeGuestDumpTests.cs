using VmDebug.Engine;
using VmDebug.Engine.Dump;
using VmDebug.Engine.Guest;
using VmDebug.Engine.Qmp;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Dump;

/// <summary>Dumps of a 2 GiB guest: long enough to watch progress and to interfere with mid-dump.</summary>
public sealed class LargeGuestDumpTests
{
    private static readonly GuestLaunchOptions TwoGiB = new() { MemoryMiB = 2048 };

    [Fact]
    public async Task ProgressIsReportedAtLeastThreeTimesBeforeCompletion()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var guest = await QemuGuest.StartAsync(TestEnvironment.Guest, TwoGiB, cancellationToken: ct);
        using var directory = new TempDirectory();
        var reports = new List<OperationProgress>();
        var progress = new CallbackProgress<OperationProgress>(p => { lock (reports) { reports.Add(p); } });

        var dump = await GuestMemoryDumper.DumpAsync(
            new DumpRequest { QmpSocket = guest.QmpSocketPath, Path = directory.File("vmcore"), Format = DumpFormat.Elf }, progress, ct);

        var during = reports.Where(p => p.Status.EndsWith("as QEMU streams them", StringComparison.Ordinal))
            .Where(p => p.BytesDone > 0 && p.BytesTotal >= 2L << 30 && p.PercentComplete is >= 0 and < 100).ToList();
        Assert.True(during.Count >= 3, $"only {during.Count} progress reports with bytes before completion");
        Assert.True(during.Zip(during.Skip(1)).All(pair => pair.Second.BytesDone >= pair.First.BytesDone), "progress went backwards");
        Assert.Contains(reports, p => p.Completed);
        Assert.InRange(dump.GuestRamBytes, 2048UL << 20, 2060UL << 20);
    }

    [Fact]
    public async Task QemuKilledMidDumpGivesAClearErrorAndLeavesNoFile()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var guest = await QemuGuest.StartAsync(TestEnvironment.Guest, TwoGiB, cancellationToken: ct);
        using var directory = new TempDirectory();
        var killed = 0;
        var progress = new CallbackProgress<OperationProgress>(p =>
        {
            if (p.BytesDone > 0 && Interlocked.Exchange(ref killed, 1) == 0)
            {
                guest.Signal(9);
            }
        });

        var error = await Assert.ThrowsAsync<VmDebugException>(() => GuestMemoryDumper.DumpAsync(
            new DumpRequest { QmpSocket = guest.QmpSocketPath, Path = directory.File("vmcore"), Format = DumpFormat.Elf }, progress, ct));

        Assert.Equal(1, killed);
        Assert.Equal("DumpQemuExited", error.ErrorId);
        Assert.Contains("nothing was left behind", error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(directory.Path));
    }

    [Fact]
    public async Task ASecondDumpWhileOneRunsIsRefusedAtOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var guest = await QemuGuest.StartAsync(TestEnvironment.Guest, TwoGiB, cancellationToken: ct);
        using var directory = new TempDirectory();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = GuestMemoryDumper.DumpAsync(
            new DumpRequest { QmpSocket = guest.QmpSocketPath, Path = directory.File("first"), Format = DumpFormat.Elf },
            new CallbackProgress<OperationProgress>(p => { if (p.BytesDone > 0) { started.TrySetResult(); } }), ct);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(60), ct);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        VmDebugException error;
        TimeSpan refusal;
        try
        {
            error = await Assert.ThrowsAsync<VmDebugException>(() => GuestMemoryDumper.DumpAsync(
                new DumpRequest { QmpSocket = guest.QmpSocketPath, Path = directory.File("second"), Format = DumpFormat.KdumpZlib },
                new CallbackProgress<OperationProgress>(_ => { }), ct));
            refusal = clock.Elapsed;
        }
        finally
        {
            // Never leave the first dump running past the test, whatever the assertions say.
            await first;
        }

        Assert.Equal("DumpAlreadyRunning", error.ErrorId);
        Assert.Equal(ErrorKind.ResourceBusy, error.Kind);
        Assert.Contains($"PID {Environment.ProcessId}", error.Message);
        Assert.True(refusal < TimeSpan.FromSeconds(1), $"refusal took {refusal}");
        Assert.False(File.Exists(directory.File("second")));
        Assert.True(File.Exists((await first).Path));
    }

    [Fact]
    public async Task CancellingMidDumpLeavesNoFile()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var guest = await QemuGuest.StartAsync(TestEnvironment.Guest, TwoGiB, cancellationToken: ct);
        using var directory = new TempDirectory();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var progress = new CallbackProgress<OperationProgress>(p =>
        {
            if (p.BytesDone > 0)
            {
                cancel.Cancel();
            }
        });

        var cancelled = await Assert.ThrowsAsync<CancellationNoticeException>(() => GuestMemoryDumper.DumpAsync(
            new DumpRequest { QmpSocket = guest.QmpSocketPath, Path = directory.File("vmcore"), Format = DumpFormat.Elf }, progress, cancel.Token));

        Assert.Empty(Directory.GetFileSystemEntries(directory.Path));
        // Closing the pipe makes QEMU's next write fail: QEMU ends the dump and resumes the guest at once.
        Assert.Contains("closed the pipe", cancelled.Notice);
        Assert.Contains("Nothing was left behind", cancelled.Notice);
        Assert.Equal(guest.QmpSocketPath, cancelled.Target);
        await using var qmp = await QmpClient.ConnectAsync(guest.QmpSocketPath, null, ct);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while ((await qmp.QueryStatusAsync(null, ct)).Status != "running")
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), "the guest was not resumed after the pipe closed");
            await Task.Delay(200, ct);
        }
    }
}
