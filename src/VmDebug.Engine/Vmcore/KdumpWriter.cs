namespace VmDebug.Engine.Vmcore;

/// <summary>
/// Writes a seekable compressed kdump file (header_version 6) that makedumpfile and crash read, in three parts:
/// the layout is planned first (<see cref="KdumpFileLayout"/>), pages are compressed in parallel and written with
/// their descriptors (<see cref="KdumpPageWriter"/>), and the headers and bitmaps go last (<see cref="KdumpHeaders"/>).
/// </summary>
public static class KdumpWriter
{
    /// <summary>Writes the file; returns how many of the pages not excluded were all zeros.</summary>
    public static async Task<long> WriteAsync(IGuestMemorySource source, Stream output, KdumpWriteOptions? options = null,
        IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(output);
        options ??= new KdumpWriteOptions();
        if (!output.CanSeek)
        {
            throw new ArgumentException("the output stream must be seekable", nameof(output));
        }
        PageBatches.Validate(source);
        PhysicalBounds.CheckSource(source);
        PhysicalBounds.CheckKdumpOutput(source);
        var info = VmcoreInfo.FromNotes(source.Notes);
        var layout = KdumpFileLayout.Plan(source.PageSize, source.Ranges, source.Notes, info);
        var reporter = new ProgressReporter(progress, $"Writing kdump ({options.Compression})", (long)PageBatches.TotalBytes(source.Ranges));
        var pages = new KdumpPageWriter(output, layout, options);
        await pages.WriteAsync(source, reporter, cancellationToken).ConfigureAwait(false);
        var dumpLevel = options.DumpLevel != 0 ? options.DumpLevel : options.ZeroPages == ZeroPagePolicy.Exclude ? 1 : 0;
        await KdumpHeaders.WriteAsync(output, layout, pages.Dumpable, options.Compression, dumpLevel, info, source.Notes, cancellationToken)
            .ConfigureAwait(false);
        output.SetLength(Math.Max(pages.DataEnd, pages.DataOffset));
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        reporter.Complete("Done", (long)PageBatches.TotalBytes(source.Ranges));
        return pages.ZeroPages;
    }
}
