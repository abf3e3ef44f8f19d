using System.Diagnostics;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.Dump;

/// <summary>
/// Convert-Vmcore / vmdebug convert: rewrites any dump VmDebug reads (ELF, flattened or seekable kdump) as ELF or
/// compressed kdump, pages compressed in parallel, with the same file safety as a dump (0600, temporary, rename).
/// </summary>
public static class VmcoreConverter
{
    public static async Task<GuestMemoryDump> ConvertAsync(string inputPath, string outputPath, DumpFormat format, bool force,
        IProgress<OperationProgress> progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var input = Path.GetFullPath(inputPath);
        using var output = DumpOutputFile.Prepare(outputPath, force);
        if (string.Equals(input, output.Path, StringComparison.Ordinal))
        {
            throw new VmDebugException("ConvertInPlace", ErrorKind.InvalidArgument,
                $"'{input}' cannot be converted onto itself; choose another output path.", input);
        }

        using var source = VmcoreFile.Open(input);
        string written;
        VmcoreSummary summary;
        try
        {
            await using (var stream = output.CreateTemporary("converted"))
            {
                written = stream.Name;
                if (DumpFormats.PageCompressionOf(format) is { } compression)
                {
                    await KdumpWriter.WriteAsync(source, stream, new KdumpWriteOptions { Compression = compression }, progress, cancellationToken)
                        .ConfigureAwait(false);
                }
                else
                {
                    await ElfVmcoreWriter.WriteAsync(source, stream, progress, cancellationToken).ConfigureAwait(false);
                }

                stream.Flush(flushToDisk: true);
            }

            summary = VmcoreFile.Describe(written);
        }
        catch (Exception e) when (output.Retell(e) is { } retold)
        {
            throw retold;
        }

        output.Commit(written);
        return new GuestMemoryDump
        {
            Path = output.Path,
            Format = format,
            Source = DumpSource.VmcoreFile,
            Target = input,
            SizeBytes = summary.FileBytes,
            GuestRamBytes = summary.RamBytes,
            Duration = clock.Elapsed,
            KernelRelease = summary.OsRelease,
            PhysBase = summary.PhysBase,
            Repairs = [],
            Warnings = summary.HasVmcoreInfo ? [] : ["The source dump has no VMCOREINFO, so neither does the converted file; crash and makedumpfile need it."],
        };
    }
}
