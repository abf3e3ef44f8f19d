using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.GuestKernel;

/// <summary>
/// <see cref="IGuestPhysicalMemory"/> over a dump's pages (<see cref="IGuestMemorySource"/>). Keeps the last few
/// pages read, since the printk readers and page walks touch the same pages again and again. A page a kdump file
/// left out but whose frame lies inside its ranges reads as zeros: at dump level 1 and up, excluded pages are zero
/// pages or free, cache and user pages, none of which holds the kernel structures read here; a page outside every
/// range is a failed read.
/// </summary>
public sealed class DumpPhysicalMemory : IGuestPhysicalMemory
{
    private const int CachedPages = 64;
    private const int RunPages = 64;

    private readonly IGuestMemorySource _source;
    private readonly int _pageSize;
    private readonly Dictionary<ulong, byte[]?> _cache = new();
    private readonly Queue<ulong> _order = new();
    private readonly object _lock = new();

    public DumpPhysicalMemory(IGuestMemorySource source, string name)
    {
        _source = source;
        _pageSize = source.PageSize;
        Name = name;
    }

    public string Name { get; }

    public IReadOnlyList<PhysicalRange> Ranges => _source.Ranges;

    public bool TryRead(ulong address, Span<byte> buffer)
    {
        Span<bool> present = stackalloc bool[RunPages];
        lock (_lock)
        {
            var done = 0;
            while (done < buffer.Length)
            {
                var at = address + (ulong)done;
                var within = (int)(at % (ulong)_pageSize);
                var n = Math.Min(_pageSize - within, buffer.Length - done);
                if (n == _pageSize)
                {
                    // Whole pages (scans, ring buffers) go straight into the caller's buffer, past the cache, a run
                    // at a time: an ELF reads a run in one call.
                    var pfn = at / (ulong)_pageSize;
                    var count = Math.Min((buffer.Length - done) / _pageSize, RunPages);
                    _source.ReadPages(pfn, count, buffer.Slice(done, count * _pageSize), present[..count]);
                    for (var i = 0; i < count; i++)
                    {
                        if (!present[i] && !InRanges((pfn + (ulong)i) * (ulong)_pageSize))
                        {
                            return false;
                        }
                    }
                    done += count * _pageSize;
                    continue;
                }
                var page = Page(at / (ulong)_pageSize);
                if (page is null)
                {
                    return false;
                }
                page.AsSpan(within, n).CopyTo(buffer[done..]);
                done += n;
            }
            return true;
        }
    }

    private byte[]? Page(ulong pfn)
    {
        if (_cache.TryGetValue(pfn, out var cached))
        {
            return cached;
        }
        var page = new byte[_pageSize];
        var result = _source.ReadPage(pfn, page) || InRanges(pfn * (ulong)_pageSize) ? page : null;
        if (_order.Count == CachedPages)
        {
            _cache.Remove(_order.Dequeue());
        }
        _cache[pfn] = result;
        _order.Enqueue(pfn);
        return result;
    }

    private bool InRanges(ulong address)
    {
        foreach (var range in _source.Ranges)
        {
            if (address >= range.Start && address < range.End)
            {
                return true;
            }
        }
        return false;
    }
}
