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

    public static async Task<GuestMemoryDump> DumpAsync(DumpRequest request, IProgress<OperationProgress> progress, CancellationToken cancellationToken)
    {
        var level = request.DumpLevel ?? 0;
        PageClassifier.ValidateLevel(level);
        var compression = DumpFormats.PageCompressionOf(request.Format)!.Value;
        Compression.PageCodec.Get(compression); // a missing codec library fails before the guest is paused
        var clock = Stopwatch.StartNew();
        using var output = DumpOutputFile.Prepare(request.Path, request.Force);
        var target = request.QmpSocket ?? request.Domain!;
        var activity = $"Dumping guest memory of {target}";
        var raw = output.ReserveTemporaryPath("raw");
        try
        {
            if (request.QmpSocket is { } socket)
            {
                using var guestLock = GuestDumpLock.Acquire(socket);
                await using var client = await QmpClient.ConnectAsync(socket, null, cancellationToken).ConfigureAwait(false);
                await QmpDumpSource.CheckAsync(client, DumpFormat.Elf, cancellationToken).ConfigureAwait(false);
                await using var rawFile = output.CreateTemporary("raw");
                raw = rawFile.Name;
                await QmpDumpSource.DumpAsync(client, DumpFormat.Elf, rawFile, activity, progress, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                using var guestLock = GuestDumpLock.Acquire($"libvirt:{request.ConnectionUri}#{request.Domain}");
                await LibvirtDumpOperation.DumpAsync(request.ConnectionUri, request.Domain!, raw, LibvirtDumpFormat.Raw, progress, cancellationToken)
                    .ConfigureAwait(false);
            }

            progress.Report(new OperationProgress(activity, $"Writing {request.Format} at dump level {level} (the guest runs again)"));
            GuestMemoryUsage pages;
            string written;
            using (var source = VmcoreFile.Open(raw))
            await using (var stream = output.CreateTemporary("kdump"))
            {
                written = stream.Name;
                pages = await DumpLevelWriter.WriteAsync(source, stream, compression, level, target, progress, cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            var summary = VmcoreFile.Describe(written);
            output.Commit(written);
            progress.Report(new OperationProgress(activity, "Done", 100, Completed: true));
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
                Warnings = summary.HasVmcoreInfo ? [] : ["The guest gave no VMCOREINFO, so crash and makedumpfile cannot find the kernel's symbols in this dump."],
            };
        }
        finally
        {
            File.Delete(raw);
        }
    }
}
