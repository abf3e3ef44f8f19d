using System.Diagnostics;
using VmDebug.Engine.Libvirt;
using VmDebug.Engine.PageFilter;
using VmDebug.Engine.Qmp;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.Dump;

/// <summary>
/// Dumps that VmDebug writes itself: QEMU writes a raw ELF (its fastest format, so the guest is paused the least),
/// then VmDebug classifies pages at the dump level and writes the kdump file in any codec, zstd included. The ELF
/// is a temporary next to the output, removed whatever happens; it is not yet a pipe (see README).
/// </summary>
internal static class FilteredGuestDump
{
    /// <summary>True when VmDebug, not QEMU, must write <paramref name="request"/>'s file.</summary>
    public static bool Applies(DumpRequest request) =>
        request.Format != DumpFormat.Elf && request.Format != DumpFormat.WinDmp
        && (request.DumpLevel is not null || request.Format == DumpFormat.KdumpZstd);

    /// <summary>Refuses a bad level or a missing codec library before the guest is paused.</summary>
    public static void Validate(DumpRequest request)
    {
        PageClassifier.ValidateLevel(request.DumpLevel ?? 0);
        Compression.PageCodec.Get(DumpFormats.PageCompressionOf(request.Format)!.Value);
    }

    public static async Task<GuestMemoryDump> DumpAsync(DumpRequest request, DumpOutputFile output, string activity, Stopwatch clock,
        IProgress<OperationProgress> progress, CancellationToken cancellationToken)
    {
        var level = request.DumpLevel ?? 0;
        var compression = DumpFormats.PageCompressionOf(request.Format)!.Value;
        var target = request.QmpSocket ?? request.Domain!;
        string rawPath;
        if (request.QmpSocket is { } socket)
        {
            using var guestLock = GuestDumpLock.Acquire(socket);
            await using var client = await QmpClient.ConnectAsync(socket, null, cancellationToken).ConfigureAwait(false);
            await QmpDumpSource.CheckAsync(client, DumpFormat.Elf, cancellationToken).ConfigureAwait(false);
            var rawFile = output.CreateTemporary("raw");
            await QmpDumpSource.DumpAsync(client, DumpFormat.Elf, rawFile, output.Path, activity, request.StallTimeout, progress, cancellationToken)
                .ConfigureAwait(false);
            rawPath = output.ReadPathOf(rawFile);
        }
        else
        {
            rawPath = output.ReserveTemporaryPath("raw");
            using var guestLock = GuestDumpLock.Acquire($"libvirt:{request.ConnectionUri}#{request.Domain}");
            await LibvirtDumpOperation.DumpAsync(request.ConnectionUri, request.Domain!, rawPath, LibvirtDumpFormat.Raw, progress, cancellationToken)
                .ConfigureAwait(false);
        }

        progress.Report(new OperationProgress(activity, $"Writing {request.Format} at dump level {level} (the guest runs again)"));
        GuestMemoryUsage pages;
        var stream = output.CreateTemporary("kdump");
        using (var source = VmcoreFile.Open(rawPath))
        {
            pages = await DumpLevelWriter.WriteAsync(source, stream, compression, level, target, progress, cancellationToken).ConfigureAwait(false);
        }

        var summary = VmcoreFile.Describe(output.ReadPathOf(stream));
        output.Commit(stream);
        progress.Report(new OperationProgress(activity, "Done", 100, Completed: true));
        var warnings = new List<string>();
        if (!summary.HasVmcoreInfo)
        {
            warnings.Add("The guest gave no VMCOREINFO, so crash and makedumpfile cannot find the kernel's symbols in this dump.");
        }
        if (output.StaleWarning is { } stale)
        {
            warnings.Add(stale);
        }
        return new GuestMemoryDump
        {
            Path = output.Path,
            Format = request.Format,
            Source = request.QmpSocket is null ? DumpSource.Libvirt : DumpSource.Qmp,
            Target = target,
            Domain = request.Domain,
            SizeBytes = summary.FileBytes,
            GuestRamBytes = summary.RamBytes,
            Duration = clock.Elapsed,
            KernelRelease = summary.OsRelease,
            PhysBase = summary.PhysBase,
            Repairs = [],
            Pages = pages,
            Warnings = warnings,
        };
    }
}
