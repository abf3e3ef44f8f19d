using System.Diagnostics;
using VmDebug.Engine.Qmp;

namespace VmDebug.Engine.Dump;

/// <summary>
/// Has QEMU write a dump into a file VmDebug created: the file's descriptor goes to QEMU with getfd (SCM_RIGHTS),
/// as libvirt does, so the dump is VmDebug's own 0600 file rather than QEMU's 0400 one.
/// </summary>
internal static class QmpDumpSource
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Checks what can be checked before the guest is paused.</summary>
    public static async Task CheckAsync(QmpClient client, DumpFormat format, CancellationToken cancellationToken)
    {
        var running = await client.QueryDumpAsync(null, cancellationToken).ConfigureAwait(false);
        if (running.Status == QmpDumpState.Active)
        {
            throw new VmDebugException("DumpAlreadyRunning", ErrorKind.ResourceBusy,
                $"A dump of the guest behind '{client.SocketPath}' is already running ({Units.FormatBytes(running.Completed)} of "
                + $"{Units.FormatBytes(running.Total)}); QEMU runs one at a time. Wait for it to finish.", client.SocketPath);
        }

        var formats = await client.QueryDumpGuestMemoryCapabilityAsync(null, cancellationToken).ConfigureAwait(false);
        var wanted = DumpFormats.QmpName(format);
        if (!formats.Contains(wanted))
        {
            var writable = Enum.GetValues<DumpFormat>().Where(f => formats.Contains(DumpFormats.QmpName(f))).ToArray();
            throw new VmDebugException("DumpFormatUnsupported", ErrorKind.InvalidArgument,
                $"This QEMU ({client.Greeting.Version}) cannot write {format} dumps; it writes {string.Join(", ", writable)}.",
                client.SocketPath)
            {
                // VmDebug writes every kdump format itself from an ELF dump.
                Remedy = format is not (DumpFormat.Elf or DumpFormat.WinDmp) && writable.Contains(DumpFormat.Elf)
                    ? DumpFormats.ConvertRemedy(format, DumpFormat.Elf)
                    : null,
            };
        }
    }

    /// <summary>Runs the dump into <paramref name="raw"/> and returns when QEMU reports it complete.</summary>
    /// <param name="stallTimeout">How long query-dump may report no progress before the dump counts as stalled.</param>
    /// <param name="outputPath">The file asked for, which write errors name (the temporary QEMU writes has no name).</param>
    public static async Task DumpAsync(QmpClient client, DumpFormat format, FileStream raw, string outputPath, string activity, TimeSpan stallTimeout,
        IProgress<OperationProgress> progress, CancellationToken cancellationToken)
    {
        await StartAsync(client, format, raw.SafeFileHandle, cancellationToken).ConfigureAwait(false);
        progress.Report(new OperationProgress(activity, "QEMU is writing guest memory (the guest is paused meanwhile)", 0));
        await WaitAsync(client, outputPath, activity, stallTimeout, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Passes <paramref name="file"/> (a file or a pipe's write end) to QEMU and starts a detached dump into it.</summary>
    public static async Task StartAsync(QmpClient client, DumpFormat format, Microsoft.Win32.SafeHandles.SafeFileHandle file, CancellationToken cancellationToken)
    {
        // One fixed name (the dump lock makes VmDebug the only dumper of this guest): getfd replaces and closes a
        // descriptor a killed earlier run passed but never used, which QEMU would otherwise hold, and its disk space, for good.
        const string fdName = "vmdebug-dump";
        await client.GetFdAsync(fdName, file, null, cancellationToken).ConfigureAwait(false);
        try
        {
            await client.DumpGuestMemoryAsync(new DumpGuestMemoryRequest("fd:" + fdName) { Detach = true, Format = DumpFormats.QmpName(format) },
                null, cancellationToken).ConfigureAwait(false);
        }
        catch (QmpCommandException e)
        {
            await client.CloseFdAsync(fdName, null, CancellationToken.None).ConfigureAwait(false);
            throw e.Description.Contains("dump in process", StringComparison.OrdinalIgnoreCase)
                ? new VmDebugException("DumpAlreadyRunning", ErrorKind.ResourceBusy,
                    $"A dump of the guest behind '{client.SocketPath}' is already running; QEMU runs one at a time.", client.SocketPath, e)
                : e;
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            // The command may have reached QEMU: whether a dump now runs is for query-dump to say.
            throw await StillWritingAsync(client, e, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Polls query-dump until QEMU reports the dump completed; throws when it failed, stalled or QEMU went away.</summary>
    public static async Task WaitAsync(QmpClient client, string outputPath, string activity, TimeSpan stallTimeout,
        IProgress<OperationProgress> progress, CancellationToken cancellationToken, TimeSpan? pollInterval = null)
    {
        var clock = Stopwatch.StartNew();
        var lastProgress = Stopwatch.StartNew();
        long lastCompleted = -1;
        try
        {
            while (true)
            {
                var state = await client.QueryDumpAsync(null, cancellationToken).ConfigureAwait(false);
                switch (state.Status)
                {
                    case QmpDumpState.Completed:
                        return;
                    case QmpDumpState.Failed:
                        throw await FailureAsync(client, outputPath, cancellationToken).ConfigureAwait(false);
                }

                if (state.Completed != lastCompleted)
                {
                    lastCompleted = state.Completed;
                    lastProgress.Restart();
                }
                else if (lastProgress.Elapsed > stallTimeout)
                {
                    throw new VmDebugException("DumpStalled", ErrorKind.OperationTimeout,
                        $"QEMU's dump of the guest behind '{client.SocketPath}' has made no progress for {lastProgress.Elapsed.TotalSeconds:0} s, stuck at "
                        + $"{Units.FormatBytes(state.Completed)} of {Units.FormatBytes(state.Total)} (query-dump still says active). VmDebug stopped waiting; "
                        + "QEMU keeps the guest paused until its dump ends (check the host's disk and QEMU's state).", client.SocketPath);
                }

                var percent = state.Total > 0 ? (int)(100 * state.Completed / state.Total) : -1;
                var rate = clock.Elapsed.TotalSeconds > 0 ? state.Completed / clock.Elapsed.TotalSeconds : -1;
                progress.Report(new OperationProgress(activity, "QEMU is writing guest memory", percent, state.Completed, state.Total, rate));
                await Task.Delay(pollInterval ?? PollInterval, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            throw await StillWritingAsync(client, e, cancellationToken).ConfigureAwait(false);
        }
        catch (QmpDisconnectedException e)
        {
            throw new VmDebugException("DumpQemuExited", ErrorKind.ConnectionError,
                $"QEMU went away during the dump ({e.Message}); the partial dump was removed.", client.SocketPath, e);
        }
    }

    /// <summary>
    /// QMP has no command to cancel a dump: after Ctrl+C QEMU goes on writing into the file VmDebug discards, and the
    /// guest stays paused until it is done. Says how much is left, so the user knows how long that lasts.
    /// </summary>
    private static async Task<CancellationNoticeException> StillWritingAsync(QmpClient client, OperationCanceledException cancelled,
        CancellationToken cancellationToken)
    {
        QmpDumpStatus? state = null;
        try
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            state = await client.QueryDumpAsync(null, limit.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or QmpException)
        {
            // QEMU did not answer in time: say what it is doing without the amount.
        }

        var notice = state switch
        {
            { Status: QmpDumpState.Active } s => $"QEMU cannot stop a dump it has begun: it goes on writing {Units.FormatBytes(Math.Max(0, s.Total - s.Completed))} more "
                + $"({Units.FormatBytes(s.Completed)} of {Units.FormatBytes(s.Total)} done) into the discarded file and keeps the guest behind '{client.SocketPath}' paused until that write ends; "
                + "then it resumes the guest if it was running. The file is already removed; its disk space is freed when QEMU closes it.",
            { Status: not QmpDumpState.Active } => null,
            _ => $"QEMU cannot stop a dump it has begun: it may go on writing into the discarded file and keep the guest behind '{client.SocketPath}' "
                + "paused until that write ends; then it resumes the guest if it was running.",
        };
        return notice is null
            ? new CancellationNoticeException("The dump was cancelled after QEMU had finished writing; the file was removed.", client.SocketPath, cancellationToken, cancelled)
            : new CancellationNoticeException(notice, client.SocketPath, cancellationToken, cancelled);
    }

    /// <summary>QEMU says why a detached dump failed only in its DUMP_COMPLETED event.</summary>
    public static async Task<VmDebugException> FailureAsync(QmpClient client, string outputPath, CancellationToken cancellationToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(TimeSpan.FromSeconds(2));
        var reason = "QEMU reported the dump as failed";
        try
        {
            await foreach (var qmpEvent in client.Events.ReadAllAsync(wait.Token).ConfigureAwait(false))
            {
                if (qmpEvent.Name == "DUMP_COMPLETED" && qmpEvent.Data?["error"]?.GetValue<string>() is { } error)
                {
                    reason = error;
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // No event in time: keep the generic reason.
        }

        var kind = reason.Contains("No space", StringComparison.OrdinalIgnoreCase) || reason.Contains("write", StringComparison.OrdinalIgnoreCase)
            ? ErrorKind.WriteError
            : ErrorKind.InvalidResult;
        reason = KmsgText.EscapeForDisplay(reason);
        return kind == ErrorKind.WriteError
            ? new VmDebugException("DumpFailed", kind, $"QEMU could not write the dump '{outputPath}': {reason}. Nothing was left behind.", outputPath)
            : new VmDebugException("DumpFailed", kind, $"The dump failed: {reason}. Nothing was left behind.", client.SocketPath);
    }
}
