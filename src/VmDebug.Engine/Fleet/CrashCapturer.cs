using System.Diagnostics;
using System.Globalization;
using VmDebug.Engine.Dump;
using VmDebug.Engine.GuestKernel;
using VmDebug.Engine.KernelLog;
using VmDebug.Engine.Libvirt;
using VmDebug.Engine.Qmp;

namespace VmDebug.Engine.Fleet;

/// <summary>
/// One capture: space check, dump into a hidden folder, crash summary, the side files, crash.json, the rename that
/// publishes the folder, retention, then the --after action. Any failure or cancellation removes the hidden folder.
/// </summary>
internal sealed class CrashCapturer
{
    private readonly WatchOptions _options;
    private readonly CrashArchive _archive;
    private readonly WatchEventSink _events;
    private readonly CrashLoopLimiter _limiter;
    private readonly VmlinuxCache? _vmlinux;
    private readonly SemaphoreSlim _retention = new(1, 1);

    public CrashCapturer(WatchOptions options, CrashArchive archive, WatchEventSink events, VmlinuxCache? vmlinux)
    {
        _options = options;
        _archive = archive;
        _events = events;
        _vmlinux = vmlinux;
        _limiter = new CrashLoopLimiter(options.MaxCrashesPerGuest, options.CrashWindow);
    }

    /// <summary>Captures the crash of <paramref name="notice"/>; null when it was not dumped (limit, space) or failed (reported as events).</summary>
    public async Task<GuestCrash?> CaptureAsync(PanicNotice notice, CancellationToken cancellationToken)
    {
        if (!_limiter.TryAdmit(notice.Guest, notice.Time))
        {
            RecordSuppressed(notice);
            await AfterAsync(notice, cancellationToken).ConfigureAwait(false);
            return null;
        }

        GuestCrash? crash;
        try
        {
            crash = await CaptureAdmittedAsync(notice, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not OperationCanceledException)
        {
            _events.Error(WatchEventKind.CaptureFailed, notice.Guest, notice.Source, $"The capture of {notice.Guest} failed; nothing was archived: {e.Message}");
            return null;
        }
        if (crash is null)
        {
            return null; // skipped for space: the guest is left as it is, for a dump by hand once there is room
        }

        _limiter.Captured(notice.Guest, crash.Path);
        await EnforceCapAsync(crash.Path, cancellationToken).ConfigureAwait(false);
        await AfterAsync(notice, cancellationToken).ConfigureAwait(false);
        return crash;
    }

    private async Task<GuestCrash?> CaptureAdmittedAsync(PanicNotice notice, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var facts = await GuestFacts.ReadAsync(notice, cancellationToken).ConfigureAwait(false);
        if (!HasRoom(notice, facts))
        {
            return null;
        }

        _events.Info(WatchEventKind.CaptureStarted, notice.Guest, notice.Source,
            $"Dumping {notice.Guest} ({Units.FormatBytes((long)facts.RamBytes)} of RAM) as {DumpFormats.QmpName(_options.Format)} at dump level {_options.DumpLevel}.");
        var partial = _archive.CreatePartial(notice.Guest, notice.Time);
        try
        {
            var dumpName = "vmcore." + (_options.Format == DumpFormat.Elf ? "elf" : "kdump");
            var dump = await GuestMemoryDumper.DumpAsync(new DumpRequest
            {
                QmpSocket = notice.QmpSocket,
                Domain = notice.Domain,
                ConnectionUri = notice.ConnectionUri,
                Path = Path.Combine(partial, dumpName),
                Format = _options.Format,
                DumpLevel = _options.Format == DumpFormat.Elf ? null : _options.DumpLevel,
            }, new CallbackProgress<OperationProgress>(_ => { }), cancellationToken).ConfigureAwait(false);

            var warnings = new List<string>(dump.Warnings);
            var summary = await SummarizeAsync(dump.Path, partial, warnings, cancellationToken).ConfigureAwait(false);
            if (facts.DomainXml is { } xml)
            {
                CrashArchive.WritePrivateFile(partial, "domain.xml", xml);
            }
            CrashArchive.WritePrivateFile(partial, "qemu.txt",
                $"version: {facts.QemuVersion ?? "unknown"}\ncommand line: {facts.CommandLine ?? "unknown"}\n");
            var vmlinux = summary is { BuildIdValid: true, BuildId: { } buildId } && _vmlinux is not null
                ? await _vmlinux.FetchAsync(buildId, warnings, cancellationToken).ConfigureAwait(false)
                : null;

            var crash = new GuestCrash
            {
                Guest = notice.Guest,
                Host = Environment.MachineName,
                PanicKind = notice.Kind.ToString(),
                PanicTime = notice.Time.ToUniversalTime(),
                CaptureSeconds = clock.Elapsed.TotalSeconds,
                QemuVersion = facts.QemuVersion,
                KernelRelease = summary?.KernelRelease ?? dump.KernelRelease,
                BuildId = summary?.BuildId,
                PanicMessage = summary?.PanicMessage,
                CrashingTask = summary is { Comm: { } comm }
                    ? string.Create(CultureInfo.InvariantCulture, $"{comm} (pid {summary.Pid}, CPU {summary.Cpu})")
                    : null,
                DumpFile = dumpName,
                DumpFormat = dump.Format,
                DumpLevel = dump.DumpLevel,
                DumpBytes = new FileInfo(dump.Path).Length,
                GuestRamBytes = dump.GuestRamBytes,
                Vmlinux = vmlinux,
                Warnings = warnings,
                Path = partial,
                ArchivePath = _archive.Root,
            };
            CrashArchive.WriteCrashJson(partial, crash);
            var final = _archive.Commit(partial, notice.Time);
            var archived = CrashArchive.Read(final);
            _events.Emit(WatchEventKind.CaptureCompleted, WatchEventLevel.Information, notice.Guest, notice.Source,
                $"Archived {notice.Guest} in {final} ({Units.FormatBytes(archived.DumpBytes)} dump, {archived.CaptureSeconds:0.0} s): {archived.PanicMessage ?? "no panic line in the log"}",
                archived);
            foreach (var warning in warnings)
            {
                _events.Warn(WatchEventKind.Warning, notice.Guest, final, warning);
            }
            return archived;
        }
        catch
        {
            CrashArchive.Discard(partial);
            throw;
        }
    }

    /// <summary>Refuses a dump the archive's file system cannot hold with --keep-free-bytes to spare (guest RAM bounds any dump).</summary>
    private bool HasRoom(PanicNotice notice, GuestFacts facts)
    {
        var free = new DriveInfo(_archive.Root).AvailableFreeSpace;
        var estimate = (long)Math.Min(facts.RamBytes, long.MaxValue / 2);
        if (free - estimate >= _options.KeepFreeBytes)
        {
            return true;
        }
        _events.Error(WatchEventKind.CaptureSkipped, notice.Guest, notice.Source, string.Create(CultureInfo.InvariantCulture,
            $"Not dumping {notice.Guest}: the archive's file system has {free} bytes free ({Units.FormatBytes(free)}), the dump may take up to {estimate} bytes (guest RAM, {Units.FormatBytes(estimate)}) and --keep-free-bytes keeps {_options.KeepFreeBytes} bytes ({Units.FormatBytes(_options.KeepFreeBytes)}) free. The guest is left as it is."));
        return false;
    }

    /// <summary>Crash summary, dmesg.txt and vmcoreinfo.txt from the dump; what cannot be read becomes a warning.</summary>
    private static async Task<GuestCrashInfo?> SummarizeAsync(string dumpPath, string folder, List<string> warnings, CancellationToken cancellationToken)
    {
        try
        {
            using var session = await GuestKernelSessions.OpenAsync(new GuestKernelTarget { Path = dumpPath }, cancellationToken).ConfigureAwait(false);
            CrashArchive.WritePrivateFile(folder, "vmcoreinfo.txt", session.VmcoreInfo.Text);
            var info = await Task.Run(() => GuestCrashAnalyzer.Analyze(session), cancellationToken).ConfigureAwait(false);
            warnings.AddRange(info.Warnings);
            try
            {
                CrashArchive.WritePrivateFile(folder, "dmesg.txt", GuestKernelLog.Read(session).ToMakedumpfileText());
            }
            catch (VmDebugException e)
            {
                warnings.Add($"dmesg.txt is missing: {e.Message}");
            }
            return info;
        }
        catch (VmDebugException e)
        {
            warnings.Add($"No crash summary (kernel release, build id, panic line): {e.Message}");
            return null;
        }
    }

    private void RecordSuppressed(PanicNotice notice)
    {
        var (lastCapture, suppressed, first) = _limiter.Suppress(notice.Guest);
        var message = string.Create(CultureInfo.InvariantCulture,
            $"{notice.Guest} crashed more than {_options.MaxCrashesPerGuest} times within {_options.CrashWindow.TotalSeconds:0} s: not dumped ({suppressed} so far; counted in its last capture's crash.json).");
        if (lastCapture is not null && Directory.Exists(lastCapture))
        {
            try
            {
                var last = CrashArchive.Read(lastCapture);
                CrashArchive.WriteCrashJson(lastCapture, CopyWithSuppressed(last, suppressed));
            }
            catch (Exception e) when (e is VmDebugException or IOException or UnauthorizedAccessException)
            {
                _events.Warn(WatchEventKind.Warning, notice.Guest, lastCapture, $"Cannot count the crash in {lastCapture}: {e.Message}");
            }
        }
        if (first)
        {
            _events.Warn(WatchEventKind.CrashLoopLimited, notice.Guest, notice.Source, message);
        }
        else
        {
            _events.Info(WatchEventKind.CrashLoopLimited, notice.Guest, notice.Source, message);
        }
    }

    private static GuestCrash CopyWithSuppressed(GuestCrash crash, int suppressed) => new()
    {
        Guest = crash.Guest,
        Host = crash.Host,
        PanicKind = crash.PanicKind,
        PanicTime = crash.PanicTime,
        CaptureSeconds = crash.CaptureSeconds,
        QemuVersion = crash.QemuVersion,
        KernelRelease = crash.KernelRelease,
        BuildId = crash.BuildId,
        PanicMessage = crash.PanicMessage,
        CrashingTask = crash.CrashingTask,
        DumpFile = crash.DumpFile,
        DumpFormat = crash.DumpFormat,
        DumpLevel = crash.DumpLevel,
        DumpBytes = crash.DumpBytes,
        GuestRamBytes = crash.GuestRamBytes,
        Vmlinux = crash.Vmlinux,
        SuppressedCrashes = suppressed,
        Warnings = crash.Warnings,
        Path = crash.Path,
        ArchivePath = crash.ArchivePath,
    };

    /// <summary>Removes the oldest crashes until the archive fits --max-archive-bytes; the crash just archived is kept.</summary>
    private async Task EnforceCapAsync(string newest, CancellationToken cancellationToken)
    {
        if (_options.MaxArchiveBytes is not { } cap)
        {
            return;
        }
        await _retention.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var total = _archive.TotalBytes();
            foreach (var old in _archive.List())
            {
                if (total <= cap)
                {
                    break;
                }
                if (old.Path == newest)
                {
                    continue;
                }
                var bytes = CrashArchive.FolderBytes(old.Path);
                _archive.Remove(old.Path);
                total -= bytes;
                _events.Info(WatchEventKind.RetentionRemoved, old.Guest, old.Path, string.Create(CultureInfo.InvariantCulture,
                    $"Removed the crash of {old.Guest} at {old.PanicTime:yyyy-MM-ddTHH:mm:ssZ} ({bytes} bytes) to keep the archive under --max-archive-bytes {cap}; it now holds {total} bytes."));
            }
            if (total > cap)
            {
                _events.Warn(WatchEventKind.RetentionRemoved, null, _archive.Root, string.Create(CultureInfo.InvariantCulture,
                    $"The archive holds {total} bytes, over --max-archive-bytes {cap}, with only the newest crash (and the build-id cache) left; the newest crash is kept."));
            }
        }
        finally
        {
            _retention.Release();
        }
    }

    /// <summary>The --after action; its failure is an event, never a failed capture.</summary>
    private async Task AfterAsync(PanicNotice notice, CancellationToken cancellationToken)
    {
        if (_options.After == AfterCaptureAction.Leave)
        {
            return;
        }
        try
        {
            if (notice.QmpSocket is { } socket)
            {
                await using var client = await QmpClient.ConnectAsync(socket, null, cancellationToken).ConfigureAwait(false);
                switch (_options.After)
                {
                    case AfterCaptureAction.Resume:
                        await client.ContAsync(null, cancellationToken).ConfigureAwait(false);
                        break;
                    case AfterCaptureAction.Reset:
                        await client.ExecuteAsync("system_reset", null, null, cancellationToken).ConfigureAwait(false);
                        QmpStatus status;
                        try
                        {
                            status = await client.QueryStatusAsync(null, cancellationToken).ConfigureAwait(false);
                        }
                        catch (QmpException e) when (!client.IsConnected)
                        {
                            throw new VmDebugException("AfterResetQemuExited", ErrorKind.InvalidOperation,
                                $"QEMU exited on the reset instead of rebooting {notice.Guest}: it runs with -no-reboot (-action reboot=shutdown), which turns every reset into a shutdown.",
                                socket, e);
                        }
                        // A reset out of guest-panicked leaves QEMU in prelaunch: the vCPUs start only on cont.
                        if (!status.Running)
                        {
                            await client.ContAsync(null, cancellationToken).ConfigureAwait(false);
                        }
                        break;
                    case AfterCaptureAction.Destroy:
                        try
                        {
                            await client.ExecuteAsync("quit", null, null, cancellationToken).ConfigureAwait(false);
                        }
                        catch (QmpDisconnectedException)
                        {
                            // QEMU may exit before its reply is read: that is the quit asked for.
                        }
                        break;
                }
            }
            else
            {
                using var connection = LibvirtConnection.Open(notice.ConnectionUri);
                using var domain = connection.LookupDomain(notice.Domain!);
                switch (_options.After)
                {
                    case AfterCaptureAction.Resume:
                        domain.Resume();
                        break;
                    case AfterCaptureAction.Reset:
                        domain.Reset();
                        if (domain.GetState().State != LibvirtDomainState.Running)
                        {
                            domain.Resume();
                        }
                        break;
                    case AfterCaptureAction.Destroy:
                        domain.Destroy();
                        break;
                }
            }
            _events.Info(WatchEventKind.AfterAction, notice.Guest, notice.Source, $"{_options.After} done for {notice.Guest}.");
        }
        catch (Exception e) when (e is VmDebugException && !cancellationToken.IsCancellationRequested)
        {
            _events.Warn(WatchEventKind.AfterAction, notice.Guest, notice.Source, $"--after {_options.After.ToString().ToLowerInvariant()} failed for {notice.Guest}: {e.Message}");
        }
    }
}
