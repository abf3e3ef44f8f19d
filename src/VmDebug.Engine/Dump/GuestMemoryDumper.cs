using System.Diagnostics;
using VmDebug.Engine.Libvirt;
using VmDebug.Engine.Qmp;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.Dump;

/// <summary>
/// Invoke-GuestMemoryDump / vmdebug dump: QEMU (directly over QMP, or through libvirt) streams guest memory into a
/// pipe and VmDebug writes the file in any format (<see cref="StreamingGuestDump"/>); only WinDmp is still written by
/// QEMU into VmDebug's file and repaired. The file gets its final name only when complete.
/// </summary>
public static class GuestMemoryDumper
{
    public static async Task<GuestMemoryDump> DumpAsync(DumpRequest request, IProgress<OperationProgress> progress, CancellationToken cancellationToken)
    {
        if ((request.QmpSocket is null) == (request.Domain is null))
        {
            throw new VmDebugException("DumpTargetAmbiguous", ErrorKind.InvalidArgument,
                "Give exactly one target: a QMP socket or a libvirt domain.", request.QmpSocket ?? request.Domain);
        }

        if (StreamingGuestDump.Applies(request) && request.Format != DumpFormat.Elf)
        {
            StreamingGuestDump.Validate(request);
        }
        else if (request.DumpLevel is > 0 && request.Format == DumpFormat.Elf)
        {
            throw new VmDebugException("DumpLevelNeedsKdump", ErrorKind.InvalidArgument,
                $"Dump level {request.DumpLevel} leaves pages out, which only kdump files can record; ELF keeps every page. Choose a Kdump* format or level 0.",
                request.DumpLevel);
        }

        var clock = Stopwatch.StartNew();
        // A directory destination names each dump after its guest; only then is the guest's PID looked up.
        var destination = request.Destination ?? new DumpDestination(request.Path);
        var path = destination.PathFor(destination.IsDirectory ? Subject(request) : "", request.Format);
        using var output = DumpOutputFile.Prepare(path, request.Force);
        try
        {
            return await DumpIntoAsync(request, output, clock, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (output.Retell(e) is { } retold)
        {
            throw retold;
        }
    }

    private static async Task<GuestMemoryDump> DumpIntoAsync(DumpRequest request, DumpOutputFile output, Stopwatch clock,
        IProgress<OperationProgress> progress, CancellationToken cancellationToken)
    {
        var target = request.QmpSocket ?? request.Domain!;
        var activity = $"Dumping guest memory of {target}";
        using var wholeDump = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (request.Timeout is { } limit)
        {
            wholeDump.CancelAfter(limit);
        }
        try
        {
            return StreamingGuestDump.Applies(request)
                ? await StreamingGuestDump.DumpAsync(request, output, activity, clock, progress, wholeDump.Token).ConfigureAwait(false)
                : await DumpAsync(request, output, activity, clock, progress, wholeDump.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested && request.Timeout is { } timeout)
        {
            var qemu = e is CancellationNoticeException notice ? " " + notice.Notice : "";
            throw new VmDebugException("DumpTimedOut", ErrorKind.OperationTimeout,
                $"The dump of {target} did not finish within {timeout.TotalSeconds:0.#} s (-Timeout/--timeout); nothing was written to '{output.Path}'.{qemu}",
                output.Path, e);
        }
        catch (IOException e)
        {
            // Full disks and the like: name the file asked for, not an anonymous temporary.
            throw new VmDebugException("DumpWriteFailed", ErrorKind.WriteError,
                $"Cannot write the dump '{output.Path}': {e.Message} Nothing was left behind.", output.Path, e);
        }
    }

    private static async Task<GuestMemoryDump> DumpAsync(DumpRequest request, DumpOutputFile output, string activity, Stopwatch clock,
        IProgress<OperationProgress> progress, CancellationToken cancellationToken)
    {
        string rawPath;
        FileStream? raw = null;
        if (request.QmpSocket is { } socket)
        {
            raw = await DumpOverQmpAsync(socket, request, output, activity, progress, cancellationToken).ConfigureAwait(false);
            rawPath = output.ReadPathOf(raw);
        }
        else
        {
            rawPath = output.ReserveTemporaryPath("raw");
            // libvirt would otherwise wait 30 s for the domain's job lock before refusing a second dump.
            using var guestLock = GuestDumpLock.Acquire($"libvirt:{request.ConnectionUri}#{request.Domain}");
            await LibvirtDumpOperation.DumpAsync(request.ConnectionUri, request.Domain!, rawPath, DumpFormats.LibvirtFormatOf(request.Format), progress, cancellationToken)
                .ConfigureAwait(false);
        }

        if (Files.UnixFile.Stat(rawPath)?.Size is null or 0)
        {
            throw new VmDebugException("DumpEmpty", ErrorKind.InvalidResult,
                $"QEMU reported the dump of {request.QmpSocket ?? request.Domain} as completed but wrote nothing; nothing was written to '{output.Path}'.",
                output.Path);
        }

        progress.Report(new OperationProgress(activity, "Repairing the dump for crash and makedumpfile"));
        var repaired = output.CreateTemporary("repaired");
        var repairs = await VmcoreRepairer.RepairAsync(rawPath, repaired, progress, cancellationToken).ConfigureAwait(false);
        if (raw is null)
        {
            output.Discard(rawPath);
        }
        else
        {
            output.Discard(raw);
        }
        var dump = Summarize(output.ReadPathOf(repaired), output, request, repairs, clock);
        output.Commit(repaired);
        progress.Report(new OperationProgress(activity, "Done", 100, Completed: true));
        return dump;
    }

    private static async Task<FileStream> DumpOverQmpAsync(string socket, DumpRequest request, DumpOutputFile output, string activity,
        IProgress<OperationProgress> progress, CancellationToken cancellationToken)
    {
        using var guestLock = GuestDumpLock.Acquire(socket);
        await using var client = await QmpClient.ConnectAsync(socket, null, cancellationToken).ConfigureAwait(false);
        await QmpDumpSource.CheckAsync(client, request.Format, cancellationToken).ConfigureAwait(false);
        if (request.Format == DumpFormat.WinDmp)
        {
            await WindowsDumpCheck.RequireWindowsDumpHeaderAsync(client, output, cancellationToken).ConfigureAwait(false);
        }

        var raw = output.CreateTemporary("raw");
        await QmpDumpSource.DumpAsync(client, request.Format, raw, output.Path, activity, request.StallTimeout, progress, cancellationToken).ConfigureAwait(false);
        return raw;
    }

    /// <summary>What a generated file name starts with: the domain, or the PID of the QEMU listening on the QMP socket.</summary>
    private static string Subject(DumpRequest request) =>
        request.Domain
        ?? CrashConfiguration.UnixSocketPeer.TryGetListenerProcessId(request.QmpSocket!)?.ToString(System.Globalization.CultureInfo.InvariantCulture)
        ?? System.IO.Path.GetFileNameWithoutExtension(request.QmpSocket!);

    /// <summary>
    /// Describes the finished temporary <paramref name="written"/> under the name it is about to get; streamed dumps
    /// add their pause, spool and page counts.
    /// </summary>
    internal static GuestMemoryDump Summarize(string written, DumpOutputFile output, DumpRequest request, IReadOnlyList<VmcoreRepair> repairs, Stopwatch clock,
        TimeSpan? guestPaused = null, long spoolBytes = 0, GuestMemoryUsage? pages = null, TimeSpan? classifiedWhilePaused = null)
    {
        var summary = VmcoreFile.Describe(written);
        var warnings = new List<string>();
        if (output.StaleWarning is { } stale)
        {
            warnings.Add(stale);
        }
        if (!summary.HasVmcoreInfo && request.Format != DumpFormat.WinDmp)
        {
            warnings.Add("The guest gave no VMCOREINFO, so crash and makedumpfile cannot find the kernel's symbols in this dump. "
                + "Likely cause: the guest has no vmcoreinfo device (QEMU -device vmcoreinfo; libvirt <features><vmcoreinfo state='on'/>) "
                + "or its kernel did not load the qemu_fw_cfg module (needs Linux 4.17+ with CONFIG_FW_CFG_SYSFS).");
        }

        return new GuestMemoryDump
        {
            Path = output.Path,
            Format = request.Format,
            Source = request.QmpSocket is null ? DumpSource.Libvirt : DumpSource.Qmp,
            Target = request.QmpSocket ?? request.Domain!,
            Domain = request.Domain,
            SizeBytes = summary.FileBytes,
            GuestRamBytes = summary.RamBytes,
            Duration = clock.Elapsed,
            GuestPaused = guestPaused,
            SpoolBytes = spoolBytes,
            ClassifiedWhilePaused = classifiedWhilePaused,
            KernelRelease = summary.OsRelease,
            PhysBase = summary.PhysBase,
            Repairs = repairs,
            Pages = pages,
            Warnings = warnings,
        };
    }
}
