using System.Diagnostics;
using VmDebug.Engine.Libvirt;

namespace VmDebug.Engine.Fleet;

/// <summary>
/// Watches every domain of one libvirt connection through lifecycle events (CRASHED/PANICKED, CRASHLOADED), so
/// domains defined or started later are covered too. libvirtd going away is noticed by polling the connection;
/// the source says so once, reconnects with backoff (RetryInterval doubling up to 30 s), re-subscribes, says so, and
/// looks for domains that crashed meanwhile.
/// </summary>
internal sealed class LibvirtDomainSource
{
    private const int PausedCrashedReason = 9; // VIR_DOMAIN_PAUSED_CRASHED
    private const int CrashedPanickedDetail = 0, CrashedCrashLoadedDetail = 1;
    private static readonly TimeSpan MaxRetryInterval = TimeSpan.FromSeconds(30);

    private readonly WatchOptions _options;
    private readonly WatchEventSink _events;
    private readonly Func<PanicNotice, ValueTask> _enqueue;
    // Domains whose current crash is queued or archived; forgotten when they start or resume.
    private readonly HashSet<string> _handled = new(StringComparer.Ordinal);

    public LibvirtDomainSource(WatchOptions options, WatchEventSink events, Func<PanicNotice, ValueTask> enqueue)
    {
        _options = options;
        _events = events;
        _enqueue = enqueue;
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var uri = _options.ConnectionUri;
        string? lastProblem = null;
        var connectedBefore = false;
        var retry = _options.RetryInterval;
        var down = new Stopwatch();
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var connection = LibvirtConnection.Open(uri);
                using var subscription = connection.SubscribeLifecycleEvents();
                var active = await ScanCrashedAsync(connection).ConfigureAwait(false);
                _events.Info(WatchEventKind.Watching, null, uri, connectedBefore
                    ? $"Reconnected to libvirt at {uri} after {down.Elapsed.TotalSeconds:0} s; domain events resume ({active} active domain(s))."
                    : $"Watching every domain of {uri} ({active} active now).");
                connectedBefore = true;
                lastProblem = null;
                retry = _options.RetryInterval;
                await ReadEventsAsync(connection, subscription, cancellationToken).ConfigureAwait(false);
                if (!cancellationToken.IsCancellationRequested)
                {
                    down.Restart();
                    lastProblem = Report(lastProblem, $"The connection to libvirt at {uri} was lost (libvirtd stopped or restarting); " +
                        $"reconnecting after {retry.TotalSeconds:0} s, then less often, at most {MaxRetryInterval.TotalSeconds:0} s apart.");
                }
            }
            catch (LibvirtException e) when (!cancellationToken.IsCancellationRequested)
            {
                if (!down.IsRunning)
                {
                    down.Start();
                }
                lastProblem = Report(lastProblem, $"{e.Message.TrimEnd().TrimEnd('.')}. Retrying, at most {MaxRetryInterval.TotalSeconds:0} s apart.");
            }

            try
            {
                await Task.Delay(retry, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            // Backoff: a libvirtd that stays away (or a remote URI) is not hammered; a restart is back within seconds.
            retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, Math.Max(MaxRetryInterval.Ticks, _options.RetryInterval.Ticks)));
        }
    }

    private async Task ReadEventsAsync(LibvirtConnection connection, LibvirtLifecycleSubscription subscription, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested && connection.IsAlive)
        {
            using var tick = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            tick.CancelAfter(TimeSpan.FromSeconds(1));
            try
            {
                if (!await subscription.Events.WaitToReadAsync(tick.Token).ConfigureAwait(false))
                {
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                continue; // once a second: is the connection still alive?
            }
            while (subscription.Events.TryRead(out var lifecycle))
            {
                switch (lifecycle.Event)
                {
                    case LibvirtLifecycleEventType.Crashed when lifecycle.Detail is CrashedPanickedDetail or CrashedCrashLoadedDetail:
                        await NoticeAsync(lifecycle.Domain, lifecycle.Detail == CrashedPanickedDetail ? GuestPanicKind.Panicked : GuestPanicKind.CrashLoaded,
                            lifecycle.Timestamp.ToUniversalTime()).ConfigureAwait(false);
                        break;
                    case LibvirtLifecycleEventType.Started or LibvirtLifecycleEventType.Resumed or LibvirtLifecycleEventType.Stopped:
                        lock (_handled)
                        {
                            _handled.Remove(lifecycle.Domain);
                        }
                        break;
                }
            }
        }
    }

    /// <summary>Domains that crashed while nobody watched (before the start, during a libvirtd restart); returns how many are active.</summary>
    private async Task<int> ScanCrashedAsync(LibvirtConnection connection)
    {
        var active = 0;
        foreach (var domain in connection.ListAllDomains(LibvirtListDomainsFlags.Active))
        {
            using (domain)
            {
                active++;
                (LibvirtDomainState State, int Reason) state;
                try
                {
                    state = domain.GetState();
                }
                catch (LibvirtException)
                {
                    continue; // stopped while listed
                }
                if (state.State == LibvirtDomainState.Crashed || (state.State == LibvirtDomainState.Paused && state.Reason == PausedCrashedReason))
                {
                    await NoticeAsync(domain.Name, GuestPanicKind.Panicked, DateTimeOffset.UtcNow).ConfigureAwait(false);
                }
            }
        }
        return active;
    }

    private async Task NoticeAsync(string domain, GuestPanicKind kind, DateTimeOffset time)
    {
        lock (_handled)
        {
            if (!_handled.Add(domain))
            {
                return;
            }
        }
        _events.Warn(WatchEventKind.PanicDetected, domain, _options.ConnectionUri, $"{domain}: {kind} at {time:yyyy-MM-ddTHH:mm:ss.fffZ}.");
        // Queued, not captured here: one domain's dump must not hold up the events of the others.
        await _enqueue(new PanicNotice(domain, null, domain, _options.ConnectionUri, kind, time)).ConfigureAwait(false);
    }

    private string Report(string? lastProblem, string message)
    {
        if (message != lastProblem)
        {
            _events.Warn(WatchEventKind.SourceUnavailable, null, _options.ConnectionUri, message);
        }
        return message;
    }
}
