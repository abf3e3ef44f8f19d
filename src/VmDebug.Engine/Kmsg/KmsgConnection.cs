using System.Net.Sockets;

namespace VmDebug.Engine.Kmsg;

/// <summary>One guest connection and its bounded queue of items not yet consumed.</summary>
internal sealed class KmsgConnection(long id, string guest, Socket socket)
{
    private readonly Queue<(KmsgItem Item, long Cost)> _items = new();
    private long _queuedBytes;
    private bool _finished;

    public long Id { get; } = id;

    public string Guest { get; } = guest;

    public Socket Socket { get; } = socket;

    public Task Reader { get; set; } = Task.CompletedTask;

    public AsyncSignal SpaceAvailable { get; } = new();

    public long QueuedBytes => Volatile.Read(ref _queuedBytes);

    /// <summary>Queues the item if it fits; an empty queue takes any one item so a large record cannot wedge it.</summary>
    public bool TryEnqueue(KmsgItem item, long cost, long limit)
    {
        lock (_items)
        {
            if (_items.Count > 0 && _queuedBytes + cost > limit)
            {
                return false;
            }

            _items.Enqueue((item, cost));
            Volatile.Write(ref _queuedBytes, _queuedBytes + cost);
            return true;
        }
    }

    /// <summary>Queues the final item regardless of the bound (it is small) and marks the connection finished.</summary>
    public void Finish(KmsgItem finalItem, long cost)
    {
        lock (_items)
        {
            _items.Enqueue((finalItem, cost));
            Volatile.Write(ref _queuedBytes, _queuedBytes + cost);
            _finished = true;
        }
    }

    /// <summary>Takes the oldest item; <paramref name="drained"/> says the connection is finished and empty.</summary>
    public bool TryDequeue(out KmsgItem item, out bool drained)
    {
        lock (_items)
        {
            if (_items.TryDequeue(out var entry))
            {
                Volatile.Write(ref _queuedBytes, _queuedBytes - entry.Cost);
                item = entry.Item;
                drained = false;
                SpaceAvailable.Set();
                return true;
            }

            item = null!;
            drained = _finished;
            return false;
        }
    }
}
