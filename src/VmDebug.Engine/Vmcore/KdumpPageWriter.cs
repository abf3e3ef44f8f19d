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
        var table = new byte[PageBatches.PagesPerBatch * KdumpLayout.PageDescSize];
        await PagePipeline.RunAsync(batches.Count,
            index => CompressBatch(source, batches[index], pageSize),
            async batch =>
            {
                try
                {
                    // A batch's stored pages lie back to back in its buffer: one write for the data, one for the descriptors.
                    var dataStart = data.Position;
                    var entries = 0;
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
                        _dumpable.Set(batch.Batch.FirstPfn + (ulong)i);
                        var entry = kind == PageKind.Zero
                            ? sharedZero!.Value
                            : new PageDescriptor(dataStart + batch.Offsets[i], (uint)batch.Sizes[i], batch.Flags[i], 0);
                        entry.Write(table.AsSpan(entries++ * KdumpLayout.PageDescSize));
                    }
                    await data.AppendAsync(batch.Data.AsMemory(0, batch.Used), cancellationToken).ConfigureAwait(false);
                    await descriptors.AppendAsync(table.AsMemory(0, entries * KdumpLayout.PageDescSize), cancellationToken).ConfigureAwait(false);
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

    /// <summary>A batch's pages as stored: <see cref="Data"/>[..<see cref="Used"/>] holds the stored pages in PFN order.</summary>
    private sealed record CompressedBatch(PageBatch Batch, byte[] Data, int Used, int[] Offsets, int[] Sizes, uint[] Flags, PageKind[] Kinds);

    private int SlotSize(int pageSize) => Math.Max(pageSize, _codec?.MaxCompressedLength(pageSize) ?? 0);

    private CompressedBatch CompressBatch(IGuestMemorySource source, PageBatch batch, int pageSize)
    {
        var count = batch.Count;
        var slot = SlotSize(pageSize);
        // Every stored page takes at most a page, so one slot of slack lets each compress straight into place.
        var data = ArrayPool<byte>.Shared.Rent(count * pageSize + slot);
        var offsets = new int[count];
        var sizes = new int[count];
        var flags = new uint[count];
        var kinds = new PageKind[count];
        var excluded = _options.ExcludedPages;
        var zeros = source as IKnownZeroPages;
        // Pages already compressed with this codec are copied as they are.
        var stored = source is IStoredPages pages && pages.StoredCompression == _options.Compression && _codec is not null ? pages : null;
        var input = stored is null ? ArrayPool<byte>.Shared.Rent(count * pageSize) : null;
        var present = stored is null ? new bool[count] : null;
        try
        {
            var used = 0;
            for (var i = 0; i < count;)
            {
                var pfn = batch.FirstPfn + (ulong)i;
                if (excluded is not null && excluded[pfn])
                {
                    kinds[i++] = PageKind.Excluded;
                    continue;
                }
                if (zeros?.KnownZeroPages(pfn, count - i) is > 0 and var zeroRun)
                {
                    for (var j = 0; j < zeroRun; j++, i++)
                    {
                        kinds[i] = excluded is not null && excluded[pfn + (ulong)j] ? PageKind.Excluded : PageKind.Zero;
                    }
                    continue;
                }
                if (stored is not null)
                {
                    var storedLength = stored.ReadStored(pfn, data.AsSpan(used, slot), out var compressed);
                    if (storedLength <= 0)
                    {
                        kinds[i++] = storedLength == 0 ? PageKind.Zero : PageKind.Absent;
                        continue;
                    }
                    Store(i++, used, storedLength, compressed ? _codecFlag : 0);
                    used += storedLength;
                    continue;
                }

                // Read every page up to the next excluded or known-zero one in one call.
                var run = 1;
                while (i + run < count && (excluded is null || !excluded[pfn + (ulong)run]) && (zeros is null || zeros.KnownZeroPages(pfn + (ulong)run, 1) == 0))
                {
                    run++;
                }
                source.ReadPages(pfn, run, input.AsSpan(i * pageSize, run * pageSize), present.AsSpan(i, run));
                for (var end = i + run; i < end; i++)
                {
                    var page = input.AsSpan(i * pageSize, pageSize);
                    if (!present![i])
                    {
                        kinds[i] = PageKind.Absent;
                    }
                    else if (!page.ContainsAnyExcept((byte)0))
                    {
                        kinds[i] = PageKind.Zero;
                    }
                    else
                    {
                        var length = CompressPage(page, data.AsSpan(used, slot), out var pageFlags);
                        Store(i, used, length, pageFlags);
                        used += length;
                    }
                }
            }
            return new CompressedBatch(batch, data, used, offsets, sizes, flags, kinds);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(data);
            throw;
        }
        finally
        {
            if (input is not null)
            {
                ArrayPool<byte>.Shared.Return(input);
            }
        }

        void Store(int index, int offset, int length, uint pageFlags)
        {
            kinds[index] = PageKind.Stored;
            offsets[index] = offset;
            sizes[index] = length;
            flags[index] = pageFlags;
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
