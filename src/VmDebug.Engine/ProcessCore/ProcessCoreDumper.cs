using System.Diagnostics;
using VmDebug.Engine.Dump;
using VmDebug.Engine.GuestKernel;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.ProcessCore;

/// <summary>
/// Invoke-GuestMemoryDump -CoreFile / vmdebug dump --core-file: turns a QEMU process core (dump-guest-core=on)
/// into a guest vmcore without gdb or QEMU debug symbols, the job scripts/dump-guest-memory.py does inside gdb.
/// </summary>
public static class ProcessCoreDumper
{
    public static async Task<GuestMemoryDump> DumpAsync(ProcessCoreDumpRequest request, IProgress<OperationProgress> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var clock = Stopwatch.StartNew();
        if (request.Format == DumpFormat.WinDmp)
        {
            throw new VmDebugException("DumpFormatUnsupported", ErrorKind.InvalidArgument,
                "A Windows crash dump cannot be made from a QEMU process core; use Elf or a Kdump format.", request.CoreFile);
        }
        var compression = DumpFormats.PageCompressionOf(request.Format);
        if (request.DumpLevel is { } requestedLevel)
        {
            PageFilter.PageClassifier.ValidateLevel(requestedLevel);
            if (requestedLevel > 0 && compression is null)
            {
                throw new VmDebugException("DumpLevelNeedsKdump", ErrorKind.InvalidArgument,
                    $"Dump level {requestedLevel} leaves pages out, which only kdump files can record; ELF keeps every page. Choose a Kdump* format or level 0.",
                    requestedLevel);
            }
        }
        var corePath = System.IO.Path.GetFullPath(request.CoreFile);
        var activity = $"Extracting guest memory from {corePath}";
        progress.Report(new OperationProgress(activity, "Reading the process core"));

        // An ELF vmcore from a compressed core is written while the core is decompressed, in one pass
        // (ProcessCoreElfWriter); so the output is made ready first, named from the PID in the core's first block.
        var streamFormat = compression is null ? SparseFile.CompressionOf(corePath) : null;
        using var plainCore = streamFormat is null ? ProcessCoreFile.Open(corePath, cancellationToken) : null;
        int? pid;
        if (plainCore is null)
        {
            using var headers = ProcessCoreFile.Open(CompressedCoreFile.OpenHeaders(corePath, streamFormat!.Value, cancellationToken));
            pid = headers.Pid;
        }
        else
        {
            pid = plainCore.Pid;
        }
        var destination = request.Destination ?? new DumpDestination(request.Path);
        var path = destination.PathFor(pid?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? System.IO.Path.GetFileName(corePath), request.Format);
        using var output = DumpOutputFile.Prepare(path, request.Force);
        var stream = output.CreateTemporary("vmcore");
        using var streamedCore = plainCore is null ? OpenStreaming(corePath, streamFormat!.Value, stream, activity, progress, cancellationToken) : null;
        var core = plainCore ?? streamedCore!;
        core.RequireComplete();
        var analysis = QemuCoreAnalysis.Analyze(core, request.GuestMemoryLayout);
        if (!analysis.IncludesGuestRam)
        {
            var commandLine = analysis.CommandLine;
            if (analysis.RamSegment.FileSize == 0 && commandLine.DumpGuestCore != false
                && (commandLine.MachineBackend?.MemPath ?? commandLine.MemPath) is { } memPath)
            {
                // dump-guest-core=on cannot override coredump_filter (Documentation/filesystems/proc.rst): shared file
                // mappings are bit 3, hugetlbfs ones bits 5 and 6, and only bits 0, 1, 4, 5 are set by default.
                throw new ProcessCoreException(ProcessCoreException.NoGuestRam, ErrorKind.InvalidData, corePath,
                    $"the core does not contain guest RAM: QEMU maps it from '{memPath}', and the kernel leaves shared file mappings (and shared hugetlbfs ones) "
                    + "out of cores unless QEMU's /proc/PID/coredump_filter has bit 3 (0x8), or bit 6 (0x40) for hugetlbfs, set. Set it for QEMU "
                    + "(it is inherited: e.g. echo 0x7b > /proc/self/coredump_filter in the shell that starts it), or use share=off or memory-backend-memfd.");
            }
            throw analysis.RamSegment.FileSize == 0
                ? new ProcessCoreException(ProcessCoreException.NoGuestRam, ErrorKind.InvalidData, corePath,
                    $"the core does not contain guest RAM: QEMU ran with dump-guest-core=off (libvirt's default), so its {Units.FormatBytes((long)analysis.RamSegment.MemorySize)} "
                    + "RAM mapping was left out (the kernel also leaves out RAM a guest never wrote, but a guest that ran always has).")
                {
                    Remedy = new Remedy("Run {0} {1} (qemu.conf dump_guest_core = 1) or start QEMU with -machine dump-guest-core=on, then reproduce the crash.",
                        RemedyTerm.Of(RemedyCommand.EnableQemuCoreDump), RemedyTerm.Of(RemedyParameter.IncludeGuestMemory)),
                }
                : ProcessCoreFile.Truncation(core.File, analysis.RamSegment.FileOffset + (long)analysis.RamSegment.MemorySize, "guest RAM");
        }

        var ram = analysis.RamSegment;
        var warnings = new List<string>();
        var devices = DeviceMemoryLocator.Locate(core, core.File.Captured, analysis.CommandLine, ram, analysis.Layout, warnings, cancellationToken);
        var extents = core.File.DataExtents(ram.FileOffset, ram.FileOffset + (long)ram.FileSize, cancellationToken);
        using var memory = new ProcessCoreGuestMemory(core.File, ram, analysis.Layout, extents, devices);
        progress.Report(new OperationProgress(activity, "Looking for the guest's VMCOREINFO"));
        var rejected = new List<string>();
        // A compressed core is searched in the pages its first pass kept, so the search costs no pass of its own.
        var captured = core.File.Captured;
        using var probe = ReferenceEquals(captured, core.File) ? null
            : new ProcessCoreGuestMemory(captured, ram, analysis.Layout, captured.DataExtents(ram.FileOffset, ram.FileOffset + (long)ram.FileSize, cancellationToken));
        var vmcoreinfo = VmcoreInfoLocator.Find(new DumpPhysicalMemory(probe ?? memory, corePath), rejected, cancellationToken);
        if (vmcoreinfo is null)
        {
            warnings.Add("No valid VMCOREINFO note was found in guest RAM, so crash and makedumpfile cannot find the kernel's symbols in this dump. "
                + "The guest kernel may lack CONFIG_CRASH_CORE/CONFIG_VMCORE_INFO, or died before setting it up."
                + (rejected.Count > 0 ? " Rejected candidates: " + string.Join("; ", rejected) + "." : ""));
        }
        else
        {
            memory.SetNotes([vmcoreinfo.Note]);
        }

        if (output.StaleWarning is { } stale)
        {
            warnings.Add(stale);
        }
        VmDebug.GuestMemoryUsage? pages = null;
        if (compression is null && ProcessCoreElfWriter.Fits(memory))
        {
            if (core.File is not CompressedCoreFile { StreamedRam: { } streamed } || streamed != new FileExtent(ram.FileOffset, ram.FileOffset + (long)ram.FileSize))
            {
                // A plain core, or the compressed core's biggest mapping was not guest RAM: copy RAM now (a second pass).
                stream.SetLength(0);
                ProcessCoreElfWriter.CopyRam(memory, stream.SafeFileHandle,
                    (done, total) => progress.Report(new OperationProgress(activity, "Writing guest RAM", total == 0 ? 100 : (int)(done * 100 / total))), cancellationToken);
            }
            ProcessCoreElfWriter.Finish(memory, stream);
        }
        else if (compression is null)
        {
            stream.SetLength(0);
            await ElfVmcoreWriter.WriteAsync(memory, stream, progress, cancellationToken).ConfigureAwait(false);
        }
        else if (request.DumpLevel is { } level)
        {
            pages = await PageFilter.DumpLevelWriter.WriteAsync(memory, stream, compression.Value, level, corePath, progress, cancellationToken)
                .ConfigureAwait(false);
        }
        else
        {
            // Zero pages stay in the dump (shared, as QEMU writes them): makedumpfile and crash refuse to read excluded
            // pages, and the kernel's log ring may well sit on one that is still zero.
            var options = new KdumpWriteOptions { Compression = compression.Value, ZeroPages = ZeroPagePolicy.Share };
            await KdumpWriter.WriteAsync(memory, stream, options, progress, cancellationToken)
                .ConfigureAwait(false);
        }
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        var size = stream.Length;
        output.Commit(stream);
        progress.Report(new OperationProgress(activity, "Done", 100, Completed: true));
        return new GuestMemoryDump
        {
            Path = output.Path,
            Format = request.Format,
            Source = DumpSource.QemuProcessCore,
            Target = corePath,
            SizeBytes = size,
            GuestRamBytes = analysis.Layout.RamBytes,
            Duration = clock.Elapsed,
            KernelRelease = vmcoreinfo?.Info.OsRelease,
            PhysBase = vmcoreinfo?.Info.PhysBase,
            Repairs = [],
            Pages = pages,
            Warnings = warnings,
        };
    }

    private static ProcessCoreFile OpenStreaming(string corePath, CoreFileCompression format, FileStream output, string activity,
        IProgress<OperationProgress> progress, CancellationToken cancellationToken)
    {
        const long ReportEvery = 64L << 20;
        var reported = 0L;
        var handle = output.SafeFileHandle;
        return ProcessCoreFile.Open(CompressedCoreFile.Open(corePath, format, (segmentOffset, data) =>
        {
            ProcessCoreElfWriter.WriteRam(handle, segmentOffset, data);
            if (segmentOffset - reported >= ReportEvery)
            {
                reported = segmentOffset;
                progress.Report(new OperationProgress(activity, $"Decompressing and writing guest RAM ({Units.FormatBytes(segmentOffset)} in)"));
            }
        }, cancellationToken));
    }
}
