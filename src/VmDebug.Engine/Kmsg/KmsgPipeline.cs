using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace VmDebug.Engine.Kmsg;

/// <summary>
/// Reads many guest connections fairly. Every connection has its own reader task and its own bounded queue;
/// the consumer takes one item from each non-empty queue in turn. A guest that floods fills only its own queue,
/// after which its reader stops reading its socket (the guest's writes block, or its kernel ring overwrites and
/// the skipped sequence numbers are reported as a gap). Other guests' items wait behind at most one item per
/// connection.
/// </summary>
internal sealed class KmsgPipeline : IAsyncDisposable
{
    private const int MaxPendingRefusals = 256;
    internal const int EventCost = 512;
    private const int MaxExcerpt = 80;

    private readonly KmsgStreamOptions _options;
    private readonly object _gate = new();
    private readonly List<KmsgConnection> _connections = [];
    private readonly List<KmsgConnection> _everyConnection = [];
    private readonly Queue<KmsgStreamEvent> _refusals = new();
    private readonly AsyncSignal _itemsAvailable = new();
    private readonly CancellationTokenSource _stopping = new();
    private long _suppressedRefusals;
    private long _lastConnectionId;
    private int _nextConnection;
    private bool _sourceCompleted;
    private Exception? _sourceFault;

    public KmsgPipeline(KmsgStreamOptions options)
    {
        options.Validate();
        _options = options;
    }

    /// <summary>Takes ownership of a connected socket and starts reading it, or refuses it when too many are connected.</summary>
    public void Accept(Socket socket, string guest)
    {
        KmsgConnection? connection = null;
        lock (_gate)
        {
            if (!_stopping.IsCancellationRequested && _connections.Count < _options.MaxConnections)
            {
                connection = new KmsgConnection(++_lastConnectionId, guest, socket);
                _connections.Add(connection);
                _everyConnection.Add(connection);
            }
        }

        if (connection is null)
        {
            Refuse(socket, guest, $"{_options.MaxConnections} guests are connected already, the most allowed");
            return;
        }

        connection.Reader = Task.Run(() => ReadConnectionAsync(connection, _stopping.Token));
    }

    /// <summary>Closes a connection that may not be read and reports it; refusals beyond a bound are counted, not queued.</summary>
    public void Refuse(Socket? socket, string guest, string reason)
    {
        socket?.Dispose();
        lock (_gate)
        {
            if (_refusals.Count < MaxPendingRefusals)
            {
                _refusals.Enqueue(new KmsgStreamEvent(KmsgEventKind.ConnectionRefused,
                    $"Refused a connection from {KmsgText.EscapeForDisplay(guest)}: {reason}.", guest, 0, DateTimeOffset.Now, count: 1));
            }
            else
            {
                _suppressedRefusals++;
            }
        }

        _itemsAvailable.Set();
    }

    /// <summary>The transport accepts no more connections; with a fault the stream fails once drained.</summary>
    public void CompleteSource(Exception? fault)
    {
        lock (_gate)
        {
            _sourceCompleted = true;
            _sourceFault ??= fault;
        }

        _itemsAvailable.Set();
    }

    /// <summary>Items of all connections, round robin, until the source is complete and every connection is drained.</summary>
    public async IAsyncEnumerable<KmsgItem> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (true)
        {
            _itemsAvailable.Reset();
            if (TryTake(out var item, out var finished))
            {
                yield return item;
                continue;
            }

            if (finished)
            {
                yield break;
            }

            await _itemsAvailable.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        KmsgConnection[] connections;
        lock (_gate)
        {
            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            _stopping.Cancel();
            connections = [.. _everyConnection];
        }

        foreach (var connection in connections)
        {
            connection.Socket.Dispose();
        }

        // Readers end on the cancelled token or the closed socket; their exceptions are handled inside.
        await Task.WhenAll(connections.Select(c => c.Reader)).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private bool TryTake(out KmsgItem item, out bool finished)
    {
        finished = false;
        lock (_gate)
        {
            if (_refusals.TryDequeue(out var refusal))
            {
                item = refusal;
                return true;
            }

            if (_suppressedRefusals > 0)
            {
                item = new KmsgStreamEvent(KmsgEventKind.ConnectionRefused,
                    $"Refused {_suppressedRefusals} more connections (too many refusals to report one by one).", "", 0, DateTimeOffset.Now,
                    count: _suppressedRefusals);
                _suppressedRefusals = 0;
                return true;
            }

            // Each pass either removes a drained connection (the next one slides into its slot) or moves on.
            for (var visits = _connections.Count; visits > 0 && _connections.Count > 0; visits--)
            {
                var index = _nextConnection % _connections.Count;
                var connection = _connections[index];
                if (connection.TryDequeue(out var next, out var drained))
                {
                    _nextConnection = index + 1;
                    item = next;
                    return true;
                }

                if (drained)
                {
                    _connections.RemoveAt(index);
                    _nextConnection = index;
                }
                else
                {
                    _nextConnection = index + 1;
                }
            }

            if (_sourceCompleted && _connections.Count == 0)
            {
                if (_sourceFault is not null)
                {
                    ExceptionDispatchInfo.Throw(_sourceFault);
                }

                finished = true;
            }
        }

        item = null!;
        return false;
    }

    private async Task ReadConnectionAsync(KmsgConnection connection, CancellationToken cancellationToken)
    {
        var reader = new ConnectionReader(connection, _options);
        var endReason = "the guest closed the connection";
        try
        {
            await EnqueueAsync(connection, reader, new KmsgStreamEvent(KmsgEventKind.Connected,
                $"{KmsgText.EscapeForDisplay(connection.Guest)} connected.", connection.Guest, connection.Id, DateTimeOffset.Now), cancellationToken).ConfigureAwait(false);

            var buffer = new byte[KmsgStreamOptions.ReadBufferSize];
            var receive = connection.Socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).AsTask();
            while (true)
            {
                if (reader.Framer.HasPendingRecord && !receive.IsCompleted)
                {
                    var wait = Task.Delay(_options.ContinuationWait, cancellationToken);
                    if (await Task.WhenAny(receive, wait).ConfigureAwait(false) != receive)
                    {
                        reader.Framer.FlushPending();
                        await EnqueueCompletedAsync(connection, reader, cancellationToken).ConfigureAwait(false);
                        continue;
                    }
                }

                var received = await receive.ConfigureAwait(false);
                if (received == 0)
                {
                    reader.Framer.Finish();
                    await EnqueueCompletedAsync(connection, reader, cancellationToken).ConfigureAwait(false);
                    break;
                }

                reader.BytesReceived += received;
                var offset = 0;
                while (offset < received)
                {
                    offset += reader.Framer.Feed(buffer.AsSpan(offset, received - offset));
                    reader.NotePeak(buffer.Length);
                    await EnqueueCompletedAsync(connection, reader, cancellationToken).ConfigureAwait(false);
                }

                receive = connection.Socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).AsTask();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            endReason = "the stream stopped";
        }
        catch (ObjectDisposedException) when (cancellationToken.IsCancellationRequested)
        {
            endReason = "the stream stopped";
        }
        catch (SocketException e)
        {
            endReason = cancellationToken.IsCancellationRequested ? "the stream stopped" : $"reading failed: {e.Message}";
        }
        finally
        {
            connection.Socket.Dispose();
            connection.Finish(new KmsgStreamEvent(KmsgEventKind.Disconnected,
                $"{KmsgText.EscapeForDisplay(connection.Guest)} disconnected after {reader.Records} records: {endReason}.",
                connection.Guest, connection.Id, DateTimeOffset.Now,
                count: reader.Records, bytesReceived: reader.BytesReceived, peakBufferedBytes: reader.PeakBufferedBytes), EventCost);
            _itemsAvailable.Set();
        }
    }

    private async ValueTask EnqueueCompletedAsync(KmsgConnection connection, ConnectionReader reader, CancellationToken cancellationToken)
    {
        if (!reader.TakeCompleted())
        {
            return;
        }

        foreach (var item in reader.Completed)
        {
            await EnqueueAsync(connection, reader, item, cancellationToken).ConfigureAwait(false);
        }

        reader.Completed.Clear();
    }

    private async ValueTask EnqueueAsync(KmsgConnection connection, ConnectionReader reader, KmsgItem item, CancellationToken cancellationToken)
    {
        var cost = item is KmsgRecord record ? RecordCost(record) : EventCost;
        while (true)
        {
            connection.SpaceAvailable.Reset();
            if (connection.TryEnqueue(item, cost, _options.QueueLimit))
            {
                break;
            }

            await connection.SpaceAvailable.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        reader.NotePeak(KmsgStreamOptions.ReadBufferSize);
        _itemsAvailable.Set();
    }

    /// <summary>Estimated bytes a parsed record holds: two strings of UTF-16, dictionary entries, object headers.</summary>
    internal static long RecordCost(KmsgRecord record)
    {
        var cost = 160 + 2L * (record.Message.Length + record.GetRawMessage().Length) + 2L * (record.Caller?.Length ?? 0);
        foreach (var (key, value) in record.Fields)
        {
            cost += 96 + 2L * (key.Length + value.Length);
        }

        return cost;
    }

    /// <summary>Per-connection parsing state, used only by that connection's reader task.</summary>
    private sealed class ConnectionReader(KmsgConnection connection, KmsgStreamOptions options)
    {
        private ulong? _lastSequence;

        public KmsgFramer Framer { get; } = new(options.MaxRecordLength);

        public List<KmsgItem> Completed { get; } = [];

        public long Records { get; private set; }

        public long BytesReceived { get; set; }

        public long PeakBufferedBytes { get; private set; }

        public void NotePeak(int readBufferBytes) =>
            PeakBufferedBytes = Math.Max(PeakBufferedBytes, readBufferBytes + Framer.BufferedBytes + connection.QueuedBytes);

        /// <summary>Turns a completed frame into items: a gap or reset event when the sequence jumps, then the record if its level passes.</summary>
        public bool TakeCompleted()
        {
            if (!Framer.TryTakeRecord(out var frame, out var truncated))
            {
                return false;
            }

            var now = DateTimeOffset.Now;
            KmsgRecord record;
            try
            {
                record = KmsgParser.Parse(frame, truncated, connection.Guest, connection.Id, now);
            }
            catch (KmsgFormatException e)
            {
                var excerpt = KmsgText.EscapeForDisplay(KmsgText.Decode(frame[..Math.Min(frame.Length, MaxExcerpt)]));
                Completed.Add(new KmsgStreamEvent(KmsgEventKind.MalformedRecord,
                    $"Skipped {frame.Length} bytes from {KmsgText.EscapeForDisplay(connection.Guest)}: {e.Reason}; they begin \"{excerpt}\".",
                    connection.Guest, connection.Id, now));
                return true;
            }

            Records++;
            if (_lastSequence is { } last)
            {
                if (record.Sequence <= last)
                {
                    Completed.Add(new KmsgStreamEvent(KmsgEventKind.SequenceReset,
                        $"{KmsgText.EscapeForDisplay(connection.Guest)} went back from sequence {last} to {record.Sequence}: the guest rebooted or its forwarder restarted.",
                        connection.Guest, connection.Id, now, previousSequence: last, sequence: record.Sequence));
                }
                else if (record.Sequence - last > 1)
                {
                    var missed = record.Sequence - last - 1;
                    // Name the missing sequence numbers themselves, not the records on either side of the gap.
                    var range = missed == 1 ? $"sequence {last + 1}" : $"sequences {last + 1} to {record.Sequence - 1}";
                    Completed.Add(new KmsgStreamEvent(KmsgEventKind.SequenceGap,
                        $"{KmsgText.EscapeForDisplay(connection.Guest)} skipped {missed} {(missed == 1 ? "record" : "records")} ({range}).",
                        connection.Guest, connection.Id, now, count: (long)Math.Min(missed, long.MaxValue), previousSequence: last, sequence: record.Sequence));
                }
            }

            _lastSequence = record.Sequence;
            if (record.Level <= options.MinimumLevel)
            {
                Completed.Add(record);
            }

            return true;
        }
    }
}
