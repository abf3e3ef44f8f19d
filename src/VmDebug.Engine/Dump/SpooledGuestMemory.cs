using System.Buffers;
using Microsoft.Win32.SafeHandles;
using VmDebug.Engine.Compression;
using VmDebug.Engine.PageFilter;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.Dump;

/// <summary>
/// Guest memory as the streaming dump kept it: every non-zero page, in stream order, in one spool file (an anonymous
/// temporary, so it has no name to leave behind), and an index built from what really arrived (never from what the
/// stream's headers claim). Pages are stored compressed when nothing is known about them yet: classification reads
/// them back through <see cref="ReadPage"/> and the kdump writer copies the stored bytes (<see cref="IStoredPages"/>),
/// so each page is compressed once. When the guest's pages are classified alongside the stream
/// (<see cref="DecidedPages"/>), each batch waits until its frames are decided, the excluded ones are dropped unread
/// and the kept ones are stored as they are (<see cref="PageCompression.None"/>), which keeps pace with QEMU's
/// write; the kdump writer compresses them after the guest runs again.
/// </summary>
internal sealed class SpooledGuestMemory : IGuestMemorySource, IKnownZeroPages, IStoredPages, IStreamFilter
{
    private readonly SafeFileHandle _spool;
    private readonly PageCodec? _codec;
    private readonly DecidedPages? _decided;
    private readonly CancellationToken _cancellationToken;
    private readonly List<Run> _runs = [];
    private bool _sorted = true;

    /// <summary>
    /// One streamed batch: where its pages start in the spool, and each page's offset from there and length (0: zero
    /// page, -1: excluded by its class, not stored).
    /// </summary>
    private sealed record Run(ulong FirstPfn, long SpoolOffset, int[] Offsets, int[] Lengths);

    /// <param name="compression">How pages are stored: a codec, or <see cref="PageCompression.None"/> for raw pages.</param>
    /// <param name="decided">The classification being made alongside the stream: excluded pages are dropped unread.</param>
    public SpooledGuestMemory(SafeFileHandle spool, ElfStreamHead head, PageCompression compression, DecidedPages? decided = null,
        CancellationToken cancellationToken = default)
    {
        _spool = spool;
        PageSize = head.PageSize;
        Ranges = head.Ranges;
        Notes = head.Notes;
        StoredCompression = compression;
        _codec = compression == PageCompression.None ? null : PageCodec.Get(compression);
        _decided = decided;
        _cancellationToken = cancellationToken;
    }

    public int PageSize { get; }

    public IReadOnlyList<PhysicalRange> Ranges { get; }

    public IReadOnlyList<ElfNote> Notes { get; }

    public PageCompression StoredCompression { get; }

    /// <summary>Bytes in the spool.</summary>
    public long SpoolBytes { get; private set; }

    /// <summary>Pages that were not all zeros.</summary>
    public long StoredPages { get; private set; }

    public int MaxStoredLength => Math.Max(PageSize, _codec?.MaxCompressedLength(PageSize) ?? 0);

    /// <summary>Blocks until the classification alongside has decided every frame of the batch.</summary>
    public void WaitUntilDecided(ulong firstPfn, int count, CancellationToken cancellationToken) =>
        _decided?.WaitFor(firstPfn + (ulong)count, cancellationToken);

    /// <summary>Pages the classification excluded, and those past the kernel's memory map, are not stored.</summary>
    public bool Drops(ulong pfn) =>
        _decided is { } decided && (pfn >= (decided.MemoryMapEnd ?? ulong.MaxValue) || decided.Excluded is { } excluded && excluded[pfn]);

    /// <summary>
    /// Stores one batch (any thread; after <see cref="WaitUntilDecided"/>): excluded pages get length -1, zero pages 0,
    /// neither any bytes.
    /// </summary>
    public CompressedRun Compress(StreamedBatch batch)
    {
        var data = ArrayPool<byte>.Shared.Rent(batch.Count * MaxStoredLength);
        var offsets = new int[batch.Count];
        var lengths = new int[batch.Count];
        try
        {
            var used = 0;
            WaitUntilDecided(batch.FirstPfn, batch.Count, _cancellationToken);
            for (var i = 0; i < batch.Count; i++)
            {
                if (Drops(batch.FirstPfn + (ulong)i))
                {
                    lengths[i] = -1;
                    continue;
                }
                var page = batch.Pages.AsSpan(i * PageSize, PageSize);
                if (!page.ContainsAnyExcept((byte)0))
                {
                    continue;
                }
                var length = _codec?.Compress(page, data.AsSpan(used)) ?? 0;
                if (length <= 0 || length >= PageSize)
                {
                    page.CopyTo(data.AsSpan(used));
                    length = PageSize;
                }
                offsets[i] = used;
                lengths[i] = length;
                used += length;
            }
            return new CompressedRun(batch.FirstPfn, data, used, offsets, lengths);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(data);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(batch.Pages);
        }
    }

    /// <summary>Appends a compressed batch to the spool, in stream order (one caller at a time).</summary>
    public void Append(CompressedRun run)
    {
        try
        {
            RandomAccess.Write(_spool, run.Data.AsSpan(0, run.Used), SpoolBytes);
            if (_runs.Count > 0 && _runs[^1].FirstPfn >= run.FirstPfn)
            {
                _sorted = false;
            }
            _runs.Add(new Run(run.FirstPfn, SpoolBytes, run.Offsets, run.Lengths));
            SpoolBytes += run.Used;
            foreach (var length in run.Lengths)
            {
                StoredPages += length > 0 ? 1 : 0;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(run.Data);
        }
    }

    /// <summary>Called once the stream is complete, before any read.</summary>
    public void Seal()
    {
        if (!_sorted)
        {
            _runs.Sort((a, b) => a.FirstPfn.CompareTo(b.FirstPfn));
            _sorted = true;
        }
    }

    public bool ReadPage(ulong pfn, Span<byte> page)
    {
        page = page[..PageSize];
        var scratch = ArrayPool<byte>.Shared.Rent(MaxStoredLength);
        try
        {
            var length = ReadStored(pfn, scratch, out var compressed);
            if (length <= 0)
            {
                page.Clear();
                return length == 0;
            }
            if (!compressed)
            {
                scratch.AsSpan(0, PageSize).CopyTo(page);
            }
            else if (_codec!.Decompress(scratch.AsSpan(0, length), page) != PageSize)
            {
                throw new VmDebugException("DumpSpoolCorrupt", ErrorKind.InvalidData,
                    $"The dump's spooled page {pfn} does not decompress to a page; the spool file was changed underneath VmDebug.", pfn);
            }
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    public int ReadStored(ulong pfn, Span<byte> destination, out bool compressed)
    {
        compressed = false;
        if (Find(pfn) is not var (run, index))
        {
            return -1;
        }
        var length = run.Lengths[index];
        if (length <= 0)
        {
            return length;
        }
        var read = RandomAccess.Read(_spool, destination[..length], run.SpoolOffset + run.Offsets[index]);
        if (read != length)
        {
            throw new VmDebugException("DumpSpoolCorrupt", ErrorKind.InvalidData,
                $"The dump's spool ends before page {pfn}; the spool file was changed underneath VmDebug.", pfn);
        }
        compressed = length < PageSize;
        return length;
    }

    public int KnownZeroPages(ulong pfn, int maxPages)
    {
        if (Find(pfn) is not var (run, index))
        {
            return 0;
        }
        var count = 0;
        while (count < maxPages && index + count < run.Lengths.Length && run.Lengths[index + count] == 0)
        {
            count++;
        }
        return count;
    }

    private (Run Run, int Index)? Find(ulong pfn)
    {
        int lo = 0, hi = _runs.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_runs[mid].FirstPfn <= pfn)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        if (lo == 0)
        {
            return null;
        }
        var run = _runs[lo - 1];
        var offset = pfn - run.FirstPfn;
        return offset < (ulong)run.Lengths.Length ? (run, (int)offset) : null;
    }

    // The spool belongs to the dump's output file, which removes it.
    public void Dispose()
    {
    }
}

/// <summary>One batch compressed for the spool; <see cref="Data"/> is pooled and returned by <see cref="SpooledGuestMemory.Append"/>.</summary>
internal sealed record CompressedRun(ulong FirstPfn, byte[] Data, int Used, int[] Offsets, int[] Lengths);
