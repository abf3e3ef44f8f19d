using System.Diagnostics;
using VmDebug.Engine.Compression;
using VmDebug.Engine.GuestKernel;
using VmDebug.Engine.PageFilter;
using VmDebug.Engine.Qmp;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.Dump;

/// <summary>
/// Dumps over QMP without a guest-sized temporary: QEMU writes its fastest format, a raw ELF, into a pipe, and
/// VmDebug reads it as it comes. An ELF destination is written as the pages arrive (zero pages as holes). A kdump
/// destination over QMP at a dump level that needs struct pages is classified while the guest is paused: QEMU has
/// paused it for the dump, so from the stream's head on VmDebug reads the struct page array (and the page tables to
/// it) with pmemsave and classifies in frame order, alongside the stream, which waits only for frames not yet decided
/// (<see cref="DecidedPages"/>). Excluded pages are spliced to /dev/null without reaching user space and the kept
/// non-zero ones are spooled as they are: that keeps pace with QEMU's write, and the kept pages are compressed into
/// the file once the guest runs again. Through libvirt and at levels 0 and 1 the non-zero pages are compressed into
/// the spool as they arrive and classified after the stream. The guest is paused only while QEMU writes.
/// </summary>
internal static class StreamingGuestDump
{
    private static readonly TimeSpan CompletionPoll = TimeSpan.FromMilliseconds(20);

    public static bool Applies(DumpRequest request) => request.Format != DumpFormat.WinDmp;

    /// <summary>Refuses a bad level or a missing codec library before the guest is paused.</summary>
    public static void Validate(DumpRequest request)
    {
        PageClassifier.ValidateLevel(request.DumpLevel ?? 0);
        Compression.PageCodec.Get(DumpFormats.PageCompressionOf(request.Format)!.Value);
    }

    public static async Task<GuestMemoryDump> DumpAsync(DumpRequest request, DumpOutputFile output, string activity, Stopwatch clock,
        IProgress<OperationProgress> progress, CancellationToken cancellationToken)
    {
        Received received;
        if (request.QmpSocket is { } socket)
        {
            using var guestLock = GuestDumpLock.Acquire(socket);
            await using var client = await QmpClient.ConnectAsync(socket, null, cancellationToken).ConfigureAwait(false);
            await QmpDumpSource.CheckAsync(client, DumpFormat.Elf, cancellationToken).ConfigureAwait(false);
            var wasRunning = (await client.QueryStatusAsync(null, cancellationToken).ConfigureAwait(false)).Running;
            using var pipe = DumpPipe.Create();
            await QmpDumpSource.StartAsync(client, DumpFormat.Elf, pipe.WriteEnd, cancellationToken).ConfigureAwait(false);
            // Only QEMU may hold the write end, or the stream would never end.
            pipe.CloseWriteEnd();
            received = await ReceiveAsync(pipe, request, output, socket, activity, progress, null,
                () => WaitForQemuAsync(client, output, activity, request, progress, cancellationToken),
                ended => WhyEndedAsync(client, output, ended, cancellationToken),
                (head, decided, token) => ClassifyPaused(client, head, request.DumpLevel ?? 0, socket, decided, token), cancellationToken).ConfigureAwait(false);
            if (wasRunning && await PauseFromEventsAsync(client, cancellationToken).ConfigureAwait(false) is { } paused)
            {
                received = received with { Paused = paused };
            }
        }
        else
        {
            // libvirt opens the path it is given and passes that descriptor to QEMU (qemuDomainCoreDumpWithFormat ->
            // doCoreDump -> qemuDumpToFd, libvirt 9.0): the path of a pipe VmDebug owns and reads works as QMP's does.
            using var guestLock = GuestDumpLock.Acquire($"libvirt:{request.ConnectionUri}#{request.Domain}");
            using var pipe = DumpPipe.CreateForPath();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var dumping = Libvirt.LibvirtDumpOperation.DumpAsync(request.ConnectionUri, request.Domain!, pipe.PathForWriter, Libvirt.LibvirtDumpFormat.Raw, null, stop.Token);
            try
            {
                received = await ReceiveAsync(pipe, request, output, request.Domain!, activity, progress, dumping,
                    async () => await dumping.ConfigureAwait(false),
                    async ended =>
                    {
                        try
                        {
                            await dumping.ConfigureAwait(false);
                            return ended;
                        }
                        catch (VmDebugException failed)
                        {
                            return failed;
                        }
                    }, null, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // The closed pipe makes QEMU's write fail; libvirt then returns its error, which adds nothing here.
                pipe.Dispose();
                await stop.CancelAsync().ConfigureAwait(false);
                try
                {
                    await dumping.ConfigureAwait(false);
                }
                catch (Exception e) when (e is VmDebugException or OperationCanceledException)
                {
                    // Secondary to the failure being thrown.
                }
                throw;
            }
        }

        var (target, pages, guestPaused, spoolBytes, classifying) = received;
        var dump = GuestMemoryDumper.Summarize(output.ReadPathOf(target), output, request, [], clock, guestPaused, spoolBytes, pages, classifying);
        output.Commit(target);
        progress.Report(new OperationProgress(activity, "Done", 100, Completed: true));
        return dump;
    }

    private sealed record Received(FileStream Target, GuestMemoryUsage? Pages, TimeSpan Paused, long SpoolBytes, TimeSpan? Classifying = null);

    /// <summary>
    /// Classifies the paused guest's pages through pmemsave, alongside QEMU's stream (which waits for the frames it
    /// reaches before they are decided).
    /// </summary>
    private static PageClassification ClassifyPaused(QmpClient client, ElfStreamHead head, int level, string name, DecidedPages decided,
        CancellationToken cancellationToken)
    {
        using var memory = QmpPhysicalMemory.Borrow(client, head.Ranges);
        using var paused = new PausedGuestMemory(memory, head);
        return PageClassifier.Classify(paused, level, name, decided, cancellationToken);
    }

    /// <summary>
    /// QEMU stamps its STOP event when the dump pauses the guest and RESUME when it lets it run again: their
    /// difference is the pause on QEMU's own clock. Null when the events do not come.
    /// </summary>
    private static async Task<TimeSpan?> PauseFromEventsAsync(QmpClient client, CancellationToken cancellationToken)
    {
        DateTimeOffset? stopped = null;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            await foreach (var qmpEvent in client.Events.ReadAllAsync(limit.Token).ConfigureAwait(false))
            {
                if (qmpEvent.Name == "STOP")
                {
                    stopped = qmpEvent.Timestamp;
                }
                else if (qmpEvent.Name == "RESUME" && stopped is { } stop)
                {
                    return qmpEvent.Timestamp - stop;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // No RESUME in time: the writing span stands.
        }
        return null;
    }

    /// <summary>
    /// Reads the stream into the destination's temporary (ELF) or the spool and then the kdump temporary.
    /// <paramref name="writerDone"/> waits until the writer (QEMU, or libvirt) reports the dump complete;
    /// <paramref name="whyEnded"/> asks it why the stream ended early; <paramref name="writer"/>, when the writer runs as
    /// a task of this process, is watched while no data comes.
    /// </summary>
    private static async Task<Received> ReceiveAsync(DumpPipe pipe, DumpRequest request, DumpOutputFile output, string name, string activity,
        IProgress<OperationProgress> progress, Task? writer, Func<Task> writerDone, Func<DumpStreamEndedException, Task<Exception>> whyEnded,
        Func<ElfStreamHead, DecidedPages, CancellationToken, PageClassification>? classifyPaused, CancellationToken cancellationToken)
    {
        var level = request.DumpLevel ?? 0;
        var compression = DumpFormats.PageCompressionOf(request.Format);
        var writing = Stopwatch.StartNew();
        progress.Report(new OperationProgress(activity, "QEMU is writing guest memory into VmDebug's pipe (the guest is paused meanwhile)", 0));
        var stalled = StallCheck(name, request.StallTimeout, pipe);
        // A writer that failed before writing (libvirt refusing the domain) says why at once, not after the stall timeout.
        var idle = writer is null ? stalled : waited =>
        {
            if (writer.IsFaulted)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(writer.Exception!.InnerException!);
            }
            stalled(waited);
        };
        // Cancelling after the stream is plain cancellation: the guest already runs again.
        var streaming = true;
        try
        {
            var head = ElfDumpStream.ReadHead(pipe, name, idle, cancellationToken);
            // A kdump file is assembled after the stream: streaming counts for the first 90 percent.
            var reporter = new ProgressReporter(progress, activity, compression is null ? head.MemoryBytes : head.MemoryBytes / 9 * 10);
            long done = 0;
            if (compression is null)
            {
                var target = output.CreateTemporary("elf");
                var elf = new StreamedElfFile(target, head);
                await ElfDumpStream.ReadPagesAsync(pipe, head, name, elf.Scan, scanned =>
                {
                    elf.Write(scanned);
                    reporter.Report("Writing pages as QEMU streams them", done += scanned.Batch.Count * (long)head.PageSize);
                    return ValueTask.CompletedTask;
                }, idle, cancellationToken).ConfigureAwait(false);
                elf.Finish();
                await writerDone().ConfigureAwait(false);
                streaming = false;
                return new Received(target, null, writing.Elapsed, 0);
            }

            using var stopClassifying = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var decided = classifyPaused is not null && (level & ~PageClassifier.ExcludeZero) != 0 ? new DecidedPages() : null;
            var classifying = decided is null ? null : Task.Run(() =>
            {
                try
                {
                    var clock = Stopwatch.StartNew();
                    return (Classification: classifyPaused!(head, decided, stopClassifying.Token), Took: clock.Elapsed);
                }
                catch (Exception e)
                {
                    decided.Fail(e);
                    throw;
                }
            }, CancellationToken.None);
            var spool = output.CreateTemporary("spool");
            // Classified pages are spooled as they are: compressing them here would hold the guest paused longer.
            var spooled = new SpooledGuestMemory(spool.SafeFileHandle, head, decided is null ? compression.Value : PageCompression.None, decided,
                stopClassifying.Token);
            var doing = decided is null ? "Compressing pages as QEMU streams them" : $"Keeping the pages dump level {level} keeps as QEMU streams them";
            try
            {
                await ElfDumpStream.ReadPagesAsync(pipe, head, name, spooled.Compress, run =>
                {
                    spooled.Append(run);
                    reporter.Report(doing, done += run.Lengths.Length * (long)head.PageSize);
                    return ValueTask.CompletedTask;
                }, idle, cancellationToken, decided is null ? null : spooled).ConfigureAwait(false);
            }
            catch when (classifying is not null)
            {
                // The classification reads through QMP: it must be over before the client goes.
                await stopClassifying.CancelAsync().ConfigureAwait(false);
                await ((Task)classifying).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
                throw;
            }
            await writerDone().ConfigureAwait(false);
            streaming = false;
            var paused = writing.Elapsed;
            spooled.Seal();
            progress.Report(new OperationProgress(activity, $"Writing {request.Format} at dump level {level} (the guest runs again)"));
            var kdump = output.CreateTemporary("kdump");
            var classified = classifying is null ? default : await classifying.ConfigureAwait(false);
            var pages = classifying is null
                ? await DumpLevelWriter.WriteAsync(spooled, kdump, compression.Value, level, name, LastTenth(progress, activity), cancellationToken)
                    .ConfigureAwait(false)
                : await DumpLevelWriter.WriteAsync(spooled, kdump, compression.Value, classified.Classification, name, LastTenth(progress, activity),
                    cancellationToken).ConfigureAwait(false);
            output.Discard(spool);
            return new Received(kdump, pages, paused, spooled.SpoolBytes, classifying is null ? null : classified.Took);
        }
        catch (DumpStreamEndedException ended)
        {
            throw await whyEnded(ended).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (streaming && cancellationToken.IsCancellationRequested && e is not CancellationNoticeException)
        {
            pipe.Dispose();
            throw new CancellationNoticeException(
                "VmDebug closed the pipe QEMU was writing the dump into: QEMU's next write fails, so it ends the dump and resumes the guest if it was running. "
                + "Nothing was left behind.", name, cancellationToken, e);
        }
    }

    /// <summary>After the stream's end QEMU still has to report the dump completed (and resume the guest).</summary>
    private static async Task WaitForQemuAsync(QmpClient client, DumpOutputFile output, string activity, DumpRequest request,
        IProgress<OperationProgress> progress, CancellationToken cancellationToken)
    {
        try
        {
            await QmpDumpSource.WaitAsync(client, output.Path, activity, request.StallTimeout, progress, cancellationToken, CompletionPoll).ConfigureAwait(false);
        }
        catch (QmpDisconnectedException e)
        {
            throw QemuExited(client, e);
        }
    }

    /// <summary>The stream ended early: QEMU either reported a failure (its reason is in DUMP_COMPLETED) or is gone.</summary>
    private static async Task<Exception> WhyEndedAsync(QmpClient client, DumpOutputFile output, DumpStreamEndedException ended,
        CancellationToken cancellationToken)
    {
        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(TimeSpan.FromSeconds(5));
            while (true)
            {
                var state = await client.QueryDumpAsync(null, limit.Token).ConfigureAwait(false);
                if (state.Status == QmpDumpState.Failed)
                {
                    return await QmpDumpSource.FailureAsync(client, output.Path, cancellationToken).ConfigureAwait(false);
                }
                if (state.Status != QmpDumpState.Active)
                {
                    return ended;
                }
                await Task.Delay(CompletionPoll, limit.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is QmpDisconnectedException or QmpProtocolException or IOException)
        {
            return QemuExited(client, e);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ended;
        }
    }

    private static VmDebugException QemuExited(QmpClient client, Exception e) =>
        new("DumpQemuExited", ErrorKind.ConnectionError,
            $"QEMU went away during the dump ({KmsgText.EscapeForDisplay(e.Message)}); nothing was left behind.", client.SocketPath, e);

    /// <summary>The assembly's own progress as the last tenth of the dump's, under the dump's activity, so percentages only rise.</summary>
    private static IProgress<OperationProgress> LastTenth(IProgress<OperationProgress> progress, string activity) =>
        new Relay(p => progress.Report(p with
        {
            Activity = activity,
            PercentComplete = p.PercentComplete < 0 ? -1 : Math.Min(99, 90 + p.PercentComplete / 10),
            Completed = false,
        }));

    private sealed class Relay(Action<OperationProgress> report) : IProgress<OperationProgress>
    {
        public void Report(OperationProgress value) => report(value);
    }

    internal static Action<TimeSpan> StallCheck(string socket, TimeSpan stallTimeout, DumpPipe pipe) => idle =>
    {
        if (idle > stallTimeout)
        {
            throw new VmDebugException("DumpStalled", ErrorKind.OperationTimeout,
                $"QEMU's dump of the guest behind '{socket}' has sent nothing for {idle.TotalSeconds:0} s, after {Units.FormatBytes(pipe.Position)}. "
                + "VmDebug closed its pipe, so QEMU's next write fails and it resumes the guest (check QEMU's state).", socket);
        }
    };
}
