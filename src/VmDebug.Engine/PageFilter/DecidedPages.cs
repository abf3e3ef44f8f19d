using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.PageFilter;

/// <summary>
/// A classification as it is being made, for a consumer that runs alongside it: <see cref="PageClassifier"/> decides
/// pages in ascending frame order and only ever excludes frames at or after the one it is deciding (a free block or a
/// compound page covers the frames after its head), so every bit below the frame it has reached is final. A
/// consumer waits with <see cref="WaitFor"/> until the frames it needs are decided, then reads <see cref="Excluded"/>.
/// </summary>
internal sealed class DecidedPages
{
    private static readonly TimeSpan CancellationPoll = TimeSpan.FromMilliseconds(100);

    private readonly object _lock = new();
    private ulong _decidedBelow;
    private Exception? _failure;

    /// <summary>The bitmap being filled; final below the frame <see cref="WaitFor"/> returned for.</summary>
    public PfnBitmap? Excluded { get; private set; }

    /// <summary>Where the kernel's memory map ends: frames from here on are never written (null: not clipped).</summary>
    public ulong? MemoryMapEnd { get; private set; }

    internal void Start(PfnBitmap excluded, ulong? memoryMapEnd)
    {
        lock (_lock)
        {
            Excluded = excluded;
            MemoryMapEnd = memoryMapEnd;
        }
    }

    /// <summary>Every frame below <paramref name="pfn"/> is decided.</summary>
    internal void Advance(ulong pfn)
    {
        lock (_lock)
        {
            if (pfn > _decidedBelow)
            {
                _decidedBelow = pfn;
                Monitor.PulseAll(_lock);
            }
        }
    }

    internal void Finish() => Advance(ulong.MaxValue);

    /// <summary>The classification failed: waiters get <paramref name="failure"/> instead of bits.</summary>
    public void Fail(Exception failure)
    {
        lock (_lock)
        {
            _failure ??= failure;
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>Blocks until every frame below <paramref name="endPfn"/> is decided; throws when the classification failed.</summary>
    public void WaitFor(ulong endPfn, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            while (_decidedBelow < endPfn)
            {
                if (_failure is not null)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(_failure);
                }
                cancellationToken.ThrowIfCancellationRequested();
                Monitor.Wait(_lock, CancellationPoll);
            }
        }
    }
}
