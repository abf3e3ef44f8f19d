using System.Diagnostics;
using System.Threading.Channels;

namespace VmDebug.Engine.Vmcore;

/// <summary>
/// Runs per-batch work on the thread pool with at most a few batches in flight and hands results to one
/// consumer in submission order, so output is deterministic and memory stays bounded.
/// </summary>
internal static class PagePipeline
{
    public static async Task RunAsync<T>(int batchCount, Func<int, T> work, Func<T, ValueTask> consume, int parallelism,
        CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var inFlight = Channel.CreateBounded<Task<T>>(new BoundedChannelOptions(Math.Max(1, parallelism))
        {
            SingleReader = true,
            SingleWriter = true,
        });
        var producer = Task.Run(async () =>
        {
            try
            {
                for (var i = 0; i < batchCount; i++)
                {
                    var index = i;
                    await inFlight.Writer.WriteAsync(Task.Run(() => work(index), stop.Token), stop.Token).ConfigureAwait(false);
                }
                inFlight.Writer.Complete();
            }
            catch (Exception e)
            {
                inFlight.Writer.Complete(e);
            }
        }, CancellationToken.None);
        try
        {
            await foreach (var task in inFlight.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                await consume(await task.ConfigureAwait(false)).ConfigureAwait(false);
            }
        }
        finally
        {
            stop.Cancel();
            await producer.ConfigureAwait(false);
            // Let batches already started finish before their buffers' owners go away.
            while (inFlight.Reader.TryRead(out var pending))
            {
                try
                {
                    await pending.ConfigureAwait(false);
                }
                catch (Exception) when (stop.IsCancellationRequested)
                {
                    // Their failure is secondary to the one that stopped the pipeline.
                }
            }
        }
    }
}

/// <summary>Reports progress at most four times a second, plus the final report.</summary>
internal sealed class ProgressReporter(IProgress<OperationProgress>? progress, string activity, long totalBytes)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastReportMs = -1000;

    public void Report(string status, long doneBytes)
    {
        if (progress is null || _clock.ElapsedMilliseconds - _lastReportMs < 250)
        {
            return;
        }
        _lastReportMs = _clock.ElapsedMilliseconds;
        progress.Report(Make(status, doneBytes, completed: false));
    }

    public void Complete(string status, long doneBytes) => progress?.Report(Make(status, doneBytes, completed: true));

    private OperationProgress Make(string status, long doneBytes, bool completed)
    {
        var seconds = _clock.Elapsed.TotalSeconds;
        var percent = completed ? 100 : totalBytes > 0 ? (int)Math.Min(99, doneBytes * 100 / totalBytes) : -1;
        return new OperationProgress(activity, status, percent, doneBytes, totalBytes, seconds > 0 ? doneBytes / seconds : -1, completed);
    }
}

/// <summary>Buffers sequential writes to one region of a seekable stream and flushes them in large positional writes.</summary>
internal sealed class RegionWriter(Stream output, long start, int bufferBytes = 1 << 20)
{
    private readonly byte[] _buffer = new byte[bufferBytes];
    private int _used;

    /// <summary>File offset where the next appended byte will land.</summary>
    public long Position { get; private set; } = start;

    private long _flushedTo = start;

    public async ValueTask AppendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (data.Length >= _buffer.Length / 2)
        {
            // Large appends (a batch's pages) go to the file as they are, saving a copy through the buffer.
            await FlushAsync(cancellationToken).ConfigureAwait(false);
            output.Seek(_flushedTo, SeekOrigin.Begin);
            await output.WriteAsync(data, cancellationToken).ConfigureAwait(false);
            _flushedTo += data.Length;
            Position += data.Length;
            return;
        }
        while (!data.IsEmpty)
        {
            var take = Math.Min(data.Length, _buffer.Length - _used);
            data.Span[..take].CopyTo(_buffer.AsSpan(_used));
            _used += take;
            Position += take;
            data = data[take..];
            if (_used == _buffer.Length)
            {
                await FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Moves the position forward without writing, leaving a hole (zeros) in the file.</summary>
    public async ValueTask SkipAsync(long bytes, CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        Position += bytes;
        _flushedTo = Position;
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_used == 0)
        {
            return;
        }
        output.Seek(_flushedTo, SeekOrigin.Begin);
        await output.WriteAsync(_buffer.AsMemory(0, _used), cancellationToken).ConfigureAwait(false);
        _flushedTo += _used;
        _used = 0;
    }
}
