using VmDebug.Engine.Libvirt;

namespace VmDebug.Engine.Fleet;

/// <summary>
/// Watches every domain of one libvirt connection through lifecycle events (CRASHED/PANICKED, CRASHLOADED), so
/// domains defined or started later are covered too. libvirtd going away is noticed by polling the connection;
/// the source then reconnects, re-subscribes and looks for domains that crashed meanwhile.
/// </summary>
internal sealed class LibvirtDomainSource
{
    private const int PausedCrashedReason = 9; // VIR_DOMAIN_PAUSED_CRASHED
    private const int CrashedPanickedDetail = 0, CrashedCrashLoadedDetail = 1;

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
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var connection = LibvirtConnection.Open(uri);
                using var subscription = connection.SubscribeLifecycleEvents();
                _events.Info(WatchEventKind.Watching, null, uri,
                    connectedBefore ? $"Reconnected to libvirt at {uri}; domain events resume." : $"Watching every domain of {uri}.");
                connectedBefore = true;
                lastProblem = null;
                await ScanCrashedAsync(connection).ConfigureAwait(false);
                await ReadEventsAsync(connection, subscription, cancellationToken).ConfigureAwait(false);
                if (!cancellationToken.IsCancellationRequested)
                {
                    lastProblem = Report(lastProblem, $"The connection to libvirt at {uri} was lost; reconnecting every {_options.RetryInterval.TotalSeconds:0} s.");
                }
            }
            catch (LibvirtException e) when (!cancellationToken.IsCancellationRequested)
            {
                lastProblem = Report(lastProblem, $"{e.Message} Retrying every {_options.RetryInterval.TotalSeconds:0} s.");
            }

            try
            {
                await Task.Delay(_options.RetryInterval, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
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

    /// <summary>Domains that crashed while nobody watched (before the start, during a libvirtd restart).</summary>
    private async Task ScanCrashedAsync(LibvirtConnection connection)
    {
        foreach (var domain in connection.ListAllDomains(LibvirtListDomainsFlags.Active))
        {
            using (domain)
            {
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
