using System.Runtime.CompilerServices;
using VmDebug.Engine.Kmsg;

namespace VmDebug;

/// <summary>Guests' kernel logs (/dev/kmsg forwarded over vsock, hybrid vsock or a chardev socket) as a live stream.</summary>
public static class KmsgStream
{
    /// <summary>
    /// Opens the source (errors such as a port in use surface on the first MoveNextAsync), then yields records
    /// and stream events as they arrive, fairly across guests. Ends after <see cref="KmsgStreamOptions.Count"/>
    /// records, when <see cref="KmsgStreamOptions.Timeout"/> passes, or when a chardev source closes; cancellation
    /// throws OperationCanceledException. Leaving the enumeration in any way closes every socket.
    /// </summary>
    public static async IAsyncEnumerable<KmsgItem> ReadAsync(
        KmsgSource source,
        KmsgStreamOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        options ??= new KmsgStreamOptions();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (options.Timeout is { } timeout)
        {
            stop.CancelAfter(timeout);
        }

        await using var pipeline = new KmsgPipeline(options);
        KmsgTransport transport;
        try
        {
            transport = await source.OpenAsync(stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            yield break;
        }

        await using (transport.ConfigureAwait(false))
        {
            transport.Start(pipeline);
            var items = pipeline.ReadAllAsync(stop.Token).GetAsyncEnumerator(stop.Token);
            await using (items.ConfigureAwait(false))
            {
                var records = 0;
                while (true)
                {
                    try
                    {
                        if (!await items.MoveNextAsync().ConfigureAwait(false))
                        {
                            yield break;
                        }
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        // The timeout passed: a requested end, not an error.
                        yield break;
                    }

                    yield return items.Current;
                    if (items.Current is KmsgRecord && ++records == options.Count)
                    {
                        yield break;
                    }
                }
            }
        }
    }
}
