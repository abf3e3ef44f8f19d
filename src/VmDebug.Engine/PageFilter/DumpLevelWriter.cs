using VmDebug.Engine.Compression;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.PageFilter;

/// <summary>
/// Writes a kdump file at a makedumpfile dump level: pages are classified by struct page and left out of both the
/// dumpable bitmap and the data; zero pages keep their bit and share one stored zero page, exactly as makedumpfile
/// writes -d 1 (write_kdump_pages_cyclic's pd_zero), so the bitmaps compare page for page.
/// </summary>
public static class DumpLevelWriter
{
    public static async Task<GuestMemoryUsage> WriteAsync(IGuestMemorySource source, Stream output, PageCompression compression, int dumpLevel,
        string sourceName, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        PageClassifier.ValidateLevel(dumpLevel);
        // Hostile sources are refused before classification walks their ranges.
        PhysicalBounds.CheckSource(source);
        PhysicalBounds.CheckKdumpOutput(source);
        progress?.Report(new OperationProgress($"Writing kdump ({compression})", $"Classifying pages for dump level {dumpLevel}"));
        var classification = PageClassifier.Classify(source, dumpLevel, sourceName, cancellationToken);
        return await WriteAsync(source, output, compression, classification, sourceName, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes <paramref name="source"/> at the dump level of a classification made earlier of the same pages.</summary>
    internal static async Task<GuestMemoryUsage> WriteAsync(IGuestMemorySource source, Stream output, PageCompression compression,
        PageClassification classification, string sourceName, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var dumpLevel = classification.DumpLevel;
        PhysicalBounds.CheckSource(source);
        PhysicalBounds.CheckKdumpOutput(source);
        var options = new KdumpWriteOptions
        {
            Compression = compression,
            ZeroPages = ZeroPagePolicy.Share,
            ExcludedPages = (dumpLevel & ~PageClassifier.ExcludeZero) != 0 ? classification.Excluded : null,
            DumpLevel = dumpLevel,
        };
        using var written = classification.MemoryMapEnd is { } end ? new ClippedSource(source, end) : null;
        var zero = await KdumpWriter.WriteAsync((IGuestMemorySource?)written ?? source, output, options, progress, cancellationToken).ConfigureAwait(false);
        return classification.Usage((dumpLevel & PageClassifier.ExcludeZero) != 0 ? zero : 0, sourceName, source);
    }
}
