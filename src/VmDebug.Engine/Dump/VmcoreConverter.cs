using System.Diagnostics;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.Dump;

/// <summary>
/// Convert-Vmcore / vmdebug convert: rewrites any dump VmDebug reads (ELF, flattened or seekable kdump) as ELF or
/// compressed kdump, pages compressed in parallel, with the same file safety as a dump (0600, temporary, rename).
/// </summary>
public static class VmcoreConverter
{
    public static Task<GuestMemoryDump> ConvertAsync(string inputPath, string outputPath, DumpFormat format, bool force,
        IProgress<OperationProgress> progress, CancellationToken cancellationToken) =>
        ConvertAsync(inputPath, outputPath, format, force, 0, progress, cancellationToken);

    /// <summary>Converts, leaving out the pages makedumpfile's <paramref name="dumpLevel"/> excludes (kdump formats only).</summary>
    public static async Task<GuestMemoryDump> ConvertAsync(string inputPath, string outputPath, DumpFormat format, bool force, int dumpLevel,
        IProgress<OperationProgress> progress, CancellationToken cancellationToken)
    {
        PageFilter.PageClassifier.ValidateLevel(dumpLevel);
        var compression = DumpFormats.PageCompressionOf(format);
        if (compression is null && dumpLevel != 0)
        {
            throw new VmDebugException("DumpLevelNeedsKdump", ErrorKind.InvalidArgument,
                $"Dump level {dumpLevel} leaves pages out, which only kdump files can record; ELF keeps every page. Choose a Kdump* format or level 0.",
                dumpLevel);
        }
        var clock = Stopwatch.StartNew();
        var input = Path.GetFullPath(inputPath);
        using var output = DumpOutputFile.Prepare(outputPath, force);
        if (string.Equals(input, output.Path, StringComparison.Ordinal))
        {
            throw new VmDebugException("ConvertInPlace", ErrorKind.InvalidArgument,
                $"'{input}' cannot be converted onto itself; choose another output path.", input);
        }

        using var source = VmcoreFile.Open(input);
        var stream = output.CreateTemporary("converted");
        GuestMemoryUsage? pages = null;
        VmcoreSummary summary;
        try
        {
            if (compression is { } codec)
            {
                pages = await PageFilter.DumpLevelWriter.WriteAsync(source, stream, codec, dumpLevel, input, progress, cancellationToken)
                    .ConfigureAwait(false);
            }
            else
            {
                await ElfVmcoreWriter.WriteAsync(source, stream, progress, cancellationToken).ConfigureAwait(false);
            }

            summary = VmcoreFile.Describe(output.ReadPathOf(stream));
        }
        catch (IOException e)
        {
            // Full disks and the like: an anonymous temporary has no name, so the message names the file asked for.
            throw new VmDebugException("DumpWriteFailed", ErrorKind.WriteError, $"Writing '{output.Path}' failed: {e.Message}; nothing was left behind.", output.Path, e);
        }
        catch (Exception e) when (output.Retell(e) is { } retold)
        {
            throw retold;
        }

        output.Commit(stream);
        var warnings = new List<string>();
        if (!summary.HasVmcoreInfo)
        {
            warnings.Add("The source dump has no VMCOREINFO, so neither does the converted file; crash and makedumpfile need it.");
        }
        if (output.StaleWarning is { } stale)
        {
            warnings.Add(stale);
        }

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
            Pages = pages,
            Warnings = warnings,
        };
    }
}
