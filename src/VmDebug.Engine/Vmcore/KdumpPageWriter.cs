using System.Buffers;
using VmDebug.Engine.Compression;
using VmDebug.Engine.Dump;

namespace VmDebug.Engine.Vmcore;

/// <summary>
/// The page part of a kdump file: reads and compresses batches of pages in parallel, then writes data and
/// descriptors in PFN order and records which pages were dumped.
/// </summary>
internal sealed class KdumpPageWriter
{
    private readonly Stream _output;
    private readonly KdumpFileLayout _layout;
    private readonly KdumpWriteOptions _options;
    private readonly PageCodec? _codec;
    private readonly uint _codecFlag;
    private readonly SparseBitmap _dumpable = new();

    public KdumpPageWriter(Stream output, KdumpFileLayout layout, KdumpWriteOptions options)
    {
        _output = output;
        _layout = layout;
        _options = options;
        _codec = options.Compression == PageCompression.None ? null : PageCodec.Get(options.Compression);
        _codecFlag = DumpFormats.OfCompression(options.Compression)?.PageFlag ?? 0;
    }

    /// <summary>The second bitmap: pages that have a descriptor.</summary>
    public SparseBitmap Dumpable => _dumpable;

    /// <summary>All-zero pages found among the pages not excluded (shared or left out, as the policy says).</summary>
    public long ZeroPages { get; private set; }

    /// <summary>File offset after the last page's data.</summary>
    public long DataEnd { get; private set; }

    public async Task WriteAsync(IGuestMemorySource source, ProgressReporter reporter, CancellationToken cancellationToken)
    {
        var pageSize = _layout.PageSize;
        var descriptors = new RegionWriter(_output, _layout.DescriptorsOffset, 256 * 1024);
        var data = new RegionWriter(_output, _layout.DataOffset);

        PageDescriptor? sharedZero = null;
        if (_options.ZeroPages == ZeroPagePolicy.Share)
        {
            var stored = new byte[SlotSize(pageSize)];
            var length = CompressPage(new byte[pageSize], stored, out var flags);
            sharedZero = new PageDescriptor(data.Position, (uint)length, flags, 0);
            await data.AppendAsync(stored.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        }

        var total = (long)PageBatches.TotalBytes(source.Ranges);
        var batches = PageBatches.Plan(source.Ranges, pageSize);
        long done = 0;
        var descriptor = new byte[KdumpLayout.PageDescSize];
        await PagePipeline.RunAsync(batches.Count,
            index => CompressBatch(source, batches[index], pageSize),
            async batch =>
            {
                try
                {
                    for (var i = 0; i < batch.Batch.Count; i++)
                    {
                        var kind = batch.Kinds[i];
                        if (kind == PageKind.Zero)
                        {
                            ZeroPages++;
                        }
                        if (kind is PageKind.Absent or PageKind.Excluded || (kind == PageKind.Zero && sharedZero is null))
                        {
                            continue;
                        }
                        var pfn = batch.Batch.FirstPfn + (ulong)i;
                        _dumpable.Set(pfn);
                        PageDescriptor entry;
                        if (kind == PageKind.Zero)
                        {
                            entry = sharedZero!.Value;
                        }
                        else
                        {
                            entry = new PageDescriptor(data.Position, (uint)batch.Sizes[i], batch.Flags[i], 0);
                            await data.AppendAsync(batch.Data.AsMemory(batch.Offsets[i], batch.Sizes[i]), cancellationToken).ConfigureAwait(false);
                        }
                        entry.Write(descriptor);
                        await descriptors.AppendAsync(descriptor, cancellationToken).ConfigureAwait(false);
                    }
                    done += Math.Min(total - done, batch.Batch.Count * (long)pageSize);
                    reporter.Report("Compressing pages", done);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(batch.Data);
                }
            },
            Math.Max(1, _options.MaxDegreeOfParallelism), cancellationToken).ConfigureAwait(false);
        await descriptors.FlushAsync(cancellationToken).ConfigureAwait(false);
        await data.FlushAsync(cancellationToken).ConfigureAwait(false);
        DataEnd = data.Position;
        await CloseDescriptorGapAsync(descriptors.Position, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Where page data starts once the gap is closed.</summary>
    public long DataOffset { get; private set; }

    /// <summary>
    /// Room was reserved for a descriptor per present page, but excluded and unshared zero pages have none: move the
    /// data down to the first block after the last descriptor (collapsing the range where the file system can,
    /// copying otherwise) and shift every descriptor's offset, so the file is as small as makedumpfile's.
    /// </summary>
    private async Task CloseDescriptorGapAsync(long descriptorsEnd, CancellationToken cancellationToken)
    {
        DataOffset = _layout.DataOffset;
        var target = FileAlignment.AlignUp(descriptorsEnd, _layout.PageSize);
        var shift = _layout.DataOffset - target;
        if (shift <= 0)
        {
            return;
        }
        await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        var dataBytes = DataEnd - _layout.DataOffset;
        var collapsed = dataBytes > 0 && _output is FileStream file && Files.FileRanges.TryCollapse(file.SafeFileHandle, target, shift);
        if (!collapsed)
        {
            var chunk = new byte[1 << 20];
            for (long moved = 0; moved < dataBytes;)
            {
                var take = (int)Math.Min(chunk.Length, dataBytes - moved);
                _output.Seek(_layout.DataOffset + moved, SeekOrigin.Begin);
                await _output.ReadExactlyAsync(chunk.AsMemory(0, take), cancellationToken).ConfigureAwait(false);
                _output.Seek(target + moved, SeekOrigin.Begin);
                await _output.WriteAsync(chunk.AsMemory(0, take), cancellationToken).ConfigureAwait(false);
                moved += take;
            }
        }
        _output.SetLength(target + dataBytes);

        var table = new byte[KdumpLayout.PageDescSize * 43690];
        for (var at = _layout.DescriptorsOffset; at < descriptorsEnd;)
        {
            var take = (int)Math.Min(table.Length, descriptorsEnd - at);
            _output.Seek(at, SeekOrigin.Begin);
            await _output.ReadExactlyAsync(table.AsMemory(0, take), cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < take; i += KdumpLayout.PageDescSize)
            {
                var entry = PageDescriptor.Read(table.AsSpan(i));
                (entry with { Offset = entry.Offset - shift }).Write(table.AsSpan(i));
            }
            _output.Seek(at, SeekOrigin.Begin);
            await _output.WriteAsync(table.AsMemory(0, take), cancellationToken).ConfigureAwait(false);
            at += take;
        }
        DataOffset = target;
        DataEnd = target + dataBytes;
    }

    private enum PageKind : byte
    {
        Absent,
        Excluded,
        Zero,
        Stored,
    }

    private sealed record CompressedBatch(PageBatch Batch, byte[] Data, int[] Offsets, int[] Sizes, uint[] Flags, PageKind[] Kinds);

    private int SlotSize(int pageSize) => Math.Max(pageSize, _codec?.MaxCompressedLength(pageSize) ?? 0);

    private CompressedBatch CompressBatch(IGuestMemorySource source, PageBatch batch, int pageSize)
    {
        var page = ArrayPool<byte>.Shared.Rent(pageSize);
        var scratch = ArrayPool<byte>.Shared.Rent(SlotSize(pageSize));
        var data = ArrayPool<byte>.Shared.Rent(batch.Count * pageSize);
        var offsets = new int[batch.Count];
        var sizes = new int[batch.Count];
        var flags = new uint[batch.Count];
        var kinds = new PageKind[batch.Count];
        var excluded = _options.ExcludedPages;
        try
        {
            var used = 0;
            var zeros = source as IKnownZeroPages;
            // Pages already compressed with this codec are copied as they are.
            var stored = source is IStoredPages pages && pages.StoredCompression == _options.Compression && _codec is not null ? pages : null;
            for (var i = 0; i < batch.Count; i++)
            {
                var pfn = batch.FirstPfn + (ulong)i;
                if (excluded is not null && excluded[pfn])
                {
                    kinds[i] = PageKind.Excluded;
                    continue;
                }
                if (zeros?.KnownZeroPages(pfn, batch.Count - i) is > 0 and var run)
                {
                    for (var j = 0; j < run; j++)
                    {
                        kinds[i + j] = excluded is not null && excluded[pfn + (ulong)j] ? PageKind.Excluded : PageKind.Zero;
                    }
                    i += run - 1;
                    continue;
                }
                if (stored is not null)
                {
                    var storedLength = stored.ReadStored(pfn, scratch, out var compressed);
                    if (storedLength <= 0)
                    {
                        kinds[i] = storedLength == 0 ? PageKind.Zero : PageKind.Absent;
                        continue;
                    }
                    flags[i] = compressed ? _codecFlag : 0;
                    scratch.AsSpan(0, storedLength).CopyTo(data.AsSpan(used));
                    kinds[i] = PageKind.Stored;
                    offsets[i] = used;
                    sizes[i] = storedLength;
                    used += storedLength;
                    continue;
                }
                var span = page.AsSpan(0, pageSize);
                if (!source.ReadPage(pfn, span))
                {
                    kinds[i] = PageKind.Absent;
                    continue;
                }
                if (!span.ContainsAnyExcept((byte)0))
                {
                    kinds[i] = PageKind.Zero;
                    continue;
                }
                var length = CompressPage(span, scratch, out flags[i]);
                scratch.AsSpan(0, length).CopyTo(data.AsSpan(used));
                kinds[i] = PageKind.Stored;
                offsets[i] = used;
                sizes[i] = length;
                used += length;
            }
            return new CompressedBatch(batch, data, offsets, sizes, flags, kinds);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(data);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(page);
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// Leaves in <paramref name="scratch"/> what to store: the compressed page, or the page itself (flags 0) when
    /// compression does not shrink it. Returns its length.
    /// </summary>
    private int CompressPage(ReadOnlySpan<byte> page, Span<byte> scratch, out uint flags)
    {
        if (_codec is not null)
        {
            var length = _codec.Compress(page, scratch);
            if (length < page.Length)
            {
                flags = _codecFlag;
                return length;
            }
        }
        page.CopyTo(scratch);
        flags = 0;
        return page.Length;
    }
}
