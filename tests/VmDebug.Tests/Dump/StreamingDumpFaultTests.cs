using System.Buffers.Binary;
using System.Diagnostics;
using VmDebug.Engine;
using VmDebug.Engine.Dump;
using VmDebug.Engine.Qmp;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Dump;

/// <summary>
/// Faults of the streaming dump: QEMU killed mid-stream, a cancelled or timed-out dump (VmDebug closes the pipe, so
/// QEMU's next write fails and it resumes the guest at once), and, from a writer the test controls because QEMU
/// will not misbehave on demand, a stalled stream and a hostile stream head.
/// </summary>
public sealed class StreamingDumpFaultTests
{
    // Never booted: its RAM is untouched, so it costs the host nothing, and streaming it takes a few seconds under TCG.
    private const int GuestMiB = 4096;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task QemuKilledMidStreamGivesAClearErrorAndLeavesNothing()
    {
        using var qemu = BareQemuProcess.StartOrSkip(GuestMiB);
        using var directory = new TempDirectory();
        var streaming = new TaskCompletionSource();
        // Level 1: the never-booted guest has no VMCOREINFO, so a level that needs struct pages would stop at the stream's head.
        var dumping = GuestMemoryDumper.DumpAsync(
            new DumpRequest { QmpSocket = qemu.QmpSocketPath, Path = directory.File("vmcore"), Format = DumpFormat.KdumpZstd, DumpLevel = 1 },
            new CallbackProgress<OperationProgress>(p => { if (p.BytesDone > 0) { streaming.TrySetResult(); } }), TestContext.Current.CancellationToken);
        await streaming.Task.WaitAsync(Patience, TestContext.Current.CancellationToken);
        qemu.Kill();

        var error = await Assert.ThrowsAsync<VmDebugException>(() => dumping);

        Assert.Equal("DumpQemuExited", error.ErrorId);
        Assert.Equal(ErrorKind.ConnectionError, error.Kind);
        Assert.Contains("QEMU went away during the dump", error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(directory.Path));
    }

    [Fact]
    public async Task ALevelThatNeedsStructPagesFailsAtTheStreamsHeadWithoutVmcoreInfoAndTheGuestRunsAgain()
    {
        var ct = TestContext.Current.CancellationToken;
        using var qemu = BareQemuProcess.StartOrSkip(GuestMiB);
        await using (var qmp = await QmpClient.ConnectAsync(qemu.QmpSocketPath, null, ct))
        {
            await qmp.ContAsync(null, ct);
        }
        using var directory = new TempDirectory();
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<VmDebug.Engine.GuestKernel.GuestKernelException>(() => GuestMemoryDumper.DumpAsync(
            new DumpRequest { QmpSocket = qemu.QmpSocketPath, Path = directory.File("vmcore"), Format = DumpFormat.KdumpZstd, DumpLevel = 31 },
            new CallbackProgress<OperationProgress>(_ => { }), ct));

        Assert.Equal(VmDebug.Engine.GuestKernel.GuestKernelException.NoVmcoreInfo, error.ErrorId);
        Assert.Contains("dump level 31", error.Message);
        // Refused once the stream's notes were read, not after QEMU streamed 4 GiB (and the pipe's close ended QEMU's dump).
        Assert.Equal(QmpDumpState.Failed, await QmpDumpTests.DumpStateAfterAsync(qemu.QmpSocketPath, ct));
        await using (var qmp = await QmpClient.ConnectAsync(qemu.QmpSocketPath, null, ct))
        {
            Assert.True((await qmp.QueryStatusAsync(null, ct)).Running);
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"refused only after {clock.Elapsed}");
        Assert.Empty(Directory.GetFileSystemEntries(directory.Path));
    }

    [Fact]
    public async Task ACancelledStreamEndsQemusDumpAndTheGuestRunsAgainAtOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        using var qemu = BareQemuProcess.StartOrSkip(GuestMiB);
        await using (var qmp = await QmpClient.ConnectAsync(qemu.QmpSocketPath, null, ct))
        {
            await qmp.ContAsync(null, ct);
        }
        using var directory = new TempDirectory();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var dumping = GuestMemoryDumper.DumpAsync(
            new DumpRequest { QmpSocket = qemu.QmpSocketPath, Path = directory.File("vmcore"), Format = DumpFormat.Elf },
            new CallbackProgress<OperationProgress>(p => { if (p.BytesDone > 0) { cancel.Cancel(); } }), cancel.Token);

        var cancelled = await Assert.ThrowsAsync<CancellationNoticeException>(() => dumping);
        var clock = Stopwatch.StartNew();

        Assert.Contains("closed the pipe", cancelled.Notice);
        Assert.Equal(QmpDumpState.Failed, await QmpDumpTests.DumpStateAfterAsync(qemu.QmpSocketPath, ct));
        await using (var qmp = await QmpClient.ConnectAsync(qemu.QmpSocketPath, null, ct))
        {
            Assert.True((await qmp.QueryStatusAsync(null, ct)).Running);
        }
        // QEMU did not write the rest of 2 GiB first (that takes seconds here).
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the guest ran again only after {clock.Elapsed}");
        Assert.Empty(Directory.GetFileSystemEntries(directory.Path));
    }

    [Fact]
    public async Task AWholeDumpTimeoutClosesThePipeSoQemuStopsAtOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        using var qemu = BareQemuProcess.StartOrSkip(GuestMiB);
        using var directory = new TempDirectory();
        var path = directory.File("vmcore");

        var error = await Assert.ThrowsAsync<VmDebugException>(() => GuestMemoryDumper.DumpAsync(
            new DumpRequest { QmpSocket = qemu.QmpSocketPath, Path = path, Format = DumpFormat.KdumpLzo, Timeout = TimeSpan.FromMilliseconds(1500) },
            new CallbackProgress<OperationProgress>(_ => { }), ct));

        Assert.Equal("DumpTimedOut", error.ErrorId);
        Assert.Equal(ErrorKind.OperationTimeout, error.Kind);
        Assert.Contains("within 1.5 s", error.Message);
        Assert.True(error.Message.Contains("closed the pipe", StringComparison.Ordinal), error.Message);
        Assert.Equal(path, error.Target);
        Assert.Equal(QmpDumpState.Failed, await QmpDumpTests.DumpStateAfterAsync(qemu.QmpSocketPath, ct));
        Assert.Empty(Directory.GetFileSystemEntries(directory.Path));
    }

    [Fact]
    public async Task AStreamThatSendsNothingFailsAsStalledNamingWhereItStuck()
    {
        using var pipe = DumpPipe.Create();
        await using var writer = new FileStream(pipe.WriteEnd, FileAccess.Write, 0);
        writer.Write("\u007fELF"u8);
        var clock = Stopwatch.StartNew();

        var error = Assert.Throws<VmDebugException>(() => ElfDumpStream.ReadHead(pipe, "qmp.sock",
            StreamingGuestDump.StallCheck("qmp.sock", TimeSpan.FromSeconds(1), pipe), TestContext.Current.CancellationToken));

        Assert.Equal("DumpStalled", error.ErrorId);
        Assert.Equal(ErrorKind.OperationTimeout, error.Kind);
        Assert.Contains("has sent nothing for 1 s, after 4 B", error.Message);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task AHostileStreamHeadIsRefusedBeforeAnythingIsAllocated()
    {
        using var pipe = DumpPipe.Create();
        await using var writer = new FileStream(pipe.WriteEnd, FileAccess.Write, 0);
        var header = new byte[64];
        "\u007fELF"u8.CopyTo(header);
        header[4] = 2;
        header[5] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(16), 4);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(32), 1UL << 40); // program headers a TiB in
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(54), 56);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(56), 1);
        writer.Write(header);

        var error = Assert.Throws<VmDebugException>(() => ElfDumpStream.ReadHead(pipe, "qmp.sock", _ => { }, TestContext.Current.CancellationToken));

        Assert.Equal("DumpStreamMalformed", error.ErrorId);
        Assert.Contains("beyond the 64 MiB", error.Message);
        Assert.Equal(64, pipe.Position);
    }
}
