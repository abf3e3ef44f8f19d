using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.PageFilter;

/// <summary>Get-GuestMemoryUsage / vmdebug mem-usage: a dump's pages by exclusion class, without writing anything.</summary>
public static class GuestMemoryUsageReader
{
    public static GuestMemoryUsage Measure(string path, int dumpLevel, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        PageClassifier.ValidateLevel(dumpLevel);
        var fullPath = System.IO.Path.GetFullPath(path);
        using var source = VmcoreFile.Open(fullPath);
        var activity = $"Classifying the pages of {fullPath}";
        progress?.Report(new OperationProgress(activity, "Reading struct pages"));
        var classification = PageClassifier.Classify(source, dumpLevel, fullPath, cancellationToken);
        long zero = 0;
        if ((dumpLevel & PageClassifier.ExcludeZero) != 0)
        {
            progress?.Report(new OperationProgress(activity, "Looking for zero pages among the pages kept"));
            using var counted = classification.MemoryMapEnd is { } end ? new ClippedSource(source, end) : null;
            zero = CountZeroPages((IGuestMemorySource?)counted ?? source, classification.Excluded, cancellationToken);
        }
        progress?.Report(new OperationProgress(activity, "Done", 100, Completed: true));
        return classification.Usage(zero, fullPath, source);
    }

    /// <summary>Zero pages among those not excluded, read in parallel ranges of frames.</summary>
    internal static long CountZeroPages(IGuestMemorySource source, PfnBitmap excluded, CancellationToken cancellationToken)
    {
        var batches = PageBatches.Plan(source.Ranges, source.PageSize);
        long zero = 0;
        Parallel.ForEach(batches, new ParallelOptions { CancellationToken = cancellationToken }, () => (Count: 0L, Page: new byte[source.PageSize]),
            (batch, _, state) =>
            {
                for (var i = 0; i < batch.Count; i++)
                {
                    var pfn = batch.FirstPfn + (ulong)i;
                    if (!excluded[pfn] && source.ReadPage(pfn, state.Page) && !state.Page.AsSpan().ContainsAnyExcept((byte)0))
                    {
                        state.Count++;
                    }
                }
                return state;
            },
            state => Interlocked.Add(ref zero, state.Count));
        return zero;
    }
}
