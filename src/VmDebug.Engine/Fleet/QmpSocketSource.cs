using VmDebug.Engine.Qmp;

namespace VmDebug.Engine.Fleet;

/// <summary>
/// Watches one QMP socket for GUEST_PANICKED/GUEST_CRASHLOADED. QEMU serves one QMP client at a time, so the watcher
/// lets go of the socket while the guest is being dumped (the dumper connects itself) and while a guest it already
/// archived sits panicked (so a person can still reach it); it says so when another client holds the socket and
/// keeps retrying. A socket found by glob is dropped when its file goes away.
/// </summary>
internal sealed class QmpSocketSource
{
    private static readonly TimeSpan HandledPollInterval = TimeSpan.FromSeconds(5);

    private readonly string _socket;
    private readonly bool _fromGlob;
    private readonly WatchOptions _options;
    private readonly WatchEventSink _events;
    private readonly Func<PanicNotice, ValueTask> _enqueue;

    public QmpSocketSource(string socket, bool fromGlob, WatchOptions options, WatchEventSink events, Func<PanicNotice, ValueTask> enqueue)
    {
        _socket = socket;
        _fromGlob = fromGlob;
        _options = options;
        _events = events;
        _enqueue = enqueue;
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var guest = DefaultName(_socket);
        var handled = false; // the current panic is archived already
        string? lastProblem = null;
        var watching = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            if (_fromGlob && Files.UnixFile.LStat(_socket) is null)
            {
                _events.Info(WatchEventKind.SourceRemoved, guest, _socket, $"{_socket} is gone; no longer watched.");
                return;
            }

            PanicNotice? notice = null;
            var wait = _options.RetryInterval;
            try
            {
                await using var client = await QmpClient.ConnectAsync(_socket,
                    new QmpClientOptions { HandshakeTimeout = TimeSpan.FromSeconds(5) }, cancellationToken).ConfigureAwait(false);
                guest = await NameAsync(client, cancellationToken).ConfigureAwait(false) ?? guest;
                if (!watching || lastProblem is not null)
                {
                    _events.Info(WatchEventKind.Watching, guest, _socket, $"Watching {guest} on {_socket} (QEMU {client.Greeting.Version}).");
                    watching = true;
                    lastProblem = null;
                }

                var status = await client.QueryStatusAsync(null, cancellationToken).ConfigureAwait(false);
                if (status.Status == "guest-panicked")
                {
                    // Archived already: let go of the socket and look again later. Otherwise it panicked before the
                    // watcher connected, and QEMU keeps no panic time, so the time seen stands in.
                    wait = HandledPollInterval;
                    notice = handled ? null : new PanicNotice(guest, _socket, null, "", GuestPanicKind.Panicked, DateTimeOffset.UtcNow);
                }
                else
                {
                    handled = false;
                    notice = await WaitForPanicAsync(client, guest, cancellationToken).ConfigureAwait(false);
                    if (notice is null && !cancellationToken.IsCancellationRequested)
                    {
                        lastProblem = Report(WatchEventKind.SourceUnavailable, guest, lastProblem,
                            $"QEMU closed {_socket} ({client.ClosedReason?.Message ?? "connection closed"}); retrying every {_options.RetryInterval.TotalSeconds:0} s.");
                    }
                }
            }
            catch (QmpGreetingException)
            {
                lastProblem = Report(WatchEventKind.SourceBusy, guest, lastProblem,
                    $"Another client holds the QMP socket {_socket} (QEMU serves one client at a time): {guest} is not watched until it lets go; retrying every {_options.RetryInterval.TotalSeconds:0} s.");
            }
            catch (QmpException e) when (!cancellationToken.IsCancellationRequested)
            {
                lastProblem = Report(WatchEventKind.SourceUnavailable, guest, lastProblem,
                    $"{e.Message} Retrying every {_options.RetryInterval.TotalSeconds:0} s.");
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }

            // The connection is closed by now, so the dumper can have the socket.
            if (notice is not null)
            {
                _events.Warn(WatchEventKind.PanicDetected, guest, _socket, $"{guest}: {notice.Kind} at {notice.Time:yyyy-MM-ddTHH:mm:ss.fffZ}.");
                await _enqueue(notice).ConfigureAwait(false);
                await notice.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                handled = true;
                continue;
            }

            try
            {
                await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task<PanicNotice?> WaitForPanicAsync(QmpClient client, string guest, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var qmpEvent in client.Events.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                var kind = qmpEvent.Name switch
                {
                    "GUEST_PANICKED" => GuestPanicKind.Panicked,
                    "GUEST_CRASHLOADED" => GuestPanicKind.CrashLoaded,
                    _ => (GuestPanicKind?)null,
                };
                if (kind is { } panic)
                {
                    return new PanicNotice(guest, _socket, null, "", panic, qmpEvent.Timestamp.ToUniversalTime());
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        return null;
    }

    /// <summary>A problem is said once per spell, not once per retry.</summary>
    private string Report(WatchEventKind kind, string guest, string? lastProblem, string message)
    {
        var key = kind + ":" + message;
        if (key != lastProblem)
        {
            _events.Warn(kind, guest, _socket, message);
        }
        return key;
    }

    /// <summary>QEMU's -name when given; else the socket's name, or its folder's for generic names like qmp.sock.</summary>
    private static async Task<string?> NameAsync(QmpClient client, CancellationToken cancellationToken)
    {
        try
        {
            var reply = await client.ExecuteAsync("query-name", null, null, cancellationToken).ConfigureAwait(false);
            return reply?["name"]?.GetValue<string>() is { Length: > 0 } name ? name : null;
        }
        catch (QmpCommandException)
        {
            return null;
        }
    }

    internal static string DefaultName(string socket)
    {
        var stem = Path.GetFileNameWithoutExtension(socket);
        return stem is "qmp" or "monitor" or "qmp-sock" or ""
            ? Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(socket))) is { Length: > 0 } folder ? folder : stem
            : stem;
    }
}
