using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace VmDebug.Engine.Fleet;

/// <summary>
/// Watch-GuestPanic / vmdebug watch: watches QMP sockets, a socket glob or every libvirt domain, and archives each
/// panic (dump, crash summary, side files) with at most --max-parallel dumps at once; the others wait in order,
/// none is lost. Yields every event as it happens; completed captures carry their <see cref="GuestCrash"/>. Ends
/// when cancelled, after <see cref="WatchOptions.Timeout"/> or <see cref="WatchOptions.Count"/> captures, having
/// cancelled its captures and removed their unfinished folders.
/// </summary>
public static class FleetWatcher
{
    public static async IAsyncEnumerable<WatchEvent> WatchAsync(WatchOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var archive = new CrashArchive(options.ArchiveDirectory);
        archive.EnsureRoot();

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (options.Timeout is { } timeout)
        {
            stop.CancelAfter(timeout);
        }
        var channel = Channel.CreateUnbounded<WatchEvent>(new UnboundedChannelOptions { SingleReader = true });
        var events = new WatchEventSink(channel.Writer);
        foreach (var stale in archive.RemoveStalePartials())
        {
            events.Info(WatchEventKind.Warning, null, stale, $"Removed {stale}, the unfinished capture of an earlier watcher.");
        }

        var run = RunAsync(options, archive, events, stop);
        _ = run.ContinueWith(_ => channel.Writer.TryComplete(), TaskScheduler.Default);
        try
        {
            await foreach (var watchEvent in channel.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                yield return watchEvent;
            }
        }
        finally
        {
            // Also when the reader stops early (Ctrl+C in the pipeline, Select-Object -First): captures end first.
            await stop.CancelAsync().ConfigureAwait(false);
            await run.ConfigureAwait(false);
        }
    }

    private static async Task RunAsync(WatchOptions options, CrashArchive archive, WatchEventSink events, CancellationTokenSource stop)
    {
        var token = stop.Token;
        var notices = Channel.CreateUnbounded<PanicNotice>();
        ValueTask Enqueue(PanicNotice notice) => notices.Writer.WriteAsync(notice, token);
        var servers = options.DebuginfodServers ?? Debuginfod.DebuginfodClient.ServersFromEnvironment();
        using var vmlinux = servers.Count > 0 ? new VmlinuxCache(servers, archive) : null;
        var capturer = new CrashCapturer(options, archive, events, vmlinux);
        var tasks = new List<Task>();
        foreach (var socket in options.Sockets)
        {
            tasks.Add(Task.Run(() => new QmpSocketSource(Path.GetFullPath(socket), false, options, events, Enqueue).RunAsync(token), CancellationToken.None));
        }
        if (options.SocketGlob is { } glob)
        {
            tasks.Add(Task.Run(() => RescanGlobAsync(glob, options, events, Enqueue, token), CancellationToken.None));
        }
        if (options.AllDomains)
        {
            tasks.Add(Task.Run(() => new LibvirtDomainSource(options, events, Enqueue).RunAsync(token), CancellationToken.None));
        }
        tasks.Add(Task.Run(() => DispatchAsync(notices.Reader, capturer, options, stop), CancellationToken.None));
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception e) when (!token.IsCancellationRequested)
        {
            events.Error(WatchEventKind.Warning, null, null, $"The watcher stopped on an unexpected error: {e.Message}");
        }
    }

    /// <summary>Takes notices in order and runs at most MaxParallel captures at once.</summary>
    private static async Task DispatchAsync(ChannelReader<PanicNotice> notices, CrashCapturer capturer, WatchOptions options, CancellationTokenSource stop)
    {
        var token = stop.Token;
        using var slots = new SemaphoreSlim(options.MaxParallel);
        var running = new List<Task>();
        var completed = 0;
        try
        {
            await foreach (var notice in notices.ReadAllAsync(token).ConfigureAwait(false))
            {
                await slots.WaitAsync(token).ConfigureAwait(false);
                running.RemoveAll(t => t.IsCompleted);
                running.Add(Task.Run(async () =>
                {
                    try
                    {
                        if (await capturer.CaptureAsync(notice, token).ConfigureAwait(false) is not null
                            && options.Count is { } count && Interlocked.Increment(ref completed) >= count)
                        {
                            await stop.CancelAsync().ConfigureAwait(false);
                        }
                    }
                    finally
                    {
                        slots.Release();
                        notice.Done.TrySetResult();
                    }
                }, CancellationToken.None));
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        // Cancelled captures remove their folders before this returns.
        await Task.WhenAll(running.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default))).ConfigureAwait(false);
    }

    /// <summary>Expands the glob every rescan interval and starts a source for each new socket.</summary>
    private static async Task RescanGlobAsync(string glob, WatchOptions options, WatchEventSink events, Func<PanicNotice, ValueTask> enqueue, CancellationToken token)
    {
        var watched = new Dictionary<string, Task>(StringComparer.Ordinal);
        events.Info(WatchEventKind.Watching, null, glob, $"Watching QMP sockets matching {glob} (rescanned every {options.GlobRescanInterval.TotalSeconds:0.#} s).");
        try
        {
            while (!token.IsCancellationRequested)
            {
                foreach (var (path, task) in watched.Where(w => w.Value.IsCompleted).ToList())
                {
                    watched.Remove(path);
                }
                foreach (var socket in SocketGlob.Expand(glob))
                {
                    if (!watched.ContainsKey(socket))
                    {
                        events.Info(WatchEventKind.SourceAdded, QmpSocketSource.DefaultName(socket), socket, $"New QMP socket {socket} matches {glob}.");
                        watched[socket] = Task.Run(() => new QmpSocketSource(socket, true, options, events, enqueue).RunAsync(token), CancellationToken.None);
                    }
                }
                await Task.Delay(options.GlobRescanInterval, token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        await Task.WhenAll(watched.Values.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default))).ConfigureAwait(false);
    }
}
