using VmDebug.Engine.Compression;

namespace VmDebug.Engine.Vmcore;

/// <summary>What to do with all-zero pages in a kdump file.</summary>
public enum ZeroPagePolicy
{
    /// <summary>
    /// Keep them, all pointing at one stored zero page (QEMU's way). makedumpfile and crash read such pages as
    /// zeros; excluded ones are read errors for them (makedumpfile --dump-dmesg fails on a kernel whose printk
    /// descriptor ring sits in a zero page).
    /// </summary>
    Share,

    /// <summary>
    /// Leave them out of the dumpable bitmap: smaller by a descriptor each, but peers cannot read them. (makedumpfile
    /// -d 1 does not do this: it points them all at one stored zero page, as <see cref="Share"/> does.)
    /// </summary>
    Exclude,
}

public sealed record KdumpWriteOptions
{
    public PageCompression Compression { get; init; } = PageCompression.Zlib;
    public ZeroPagePolicy ZeroPages { get; init; } = ZeroPagePolicy.Share;

    /// <summary>Pages left out whatever their contents (classified by dump level); null keeps every page.</summary>
    public PfnBitmap? ExcludedPages { get; init; }

    /// <summary>The dump level recorded in the sub-header.</summary>
    public int DumpLevel { get; init; }

    /// <summary>Batches compressed at once; defaults to the processor count.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;
}

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
