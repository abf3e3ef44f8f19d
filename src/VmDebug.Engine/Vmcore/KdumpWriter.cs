using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using VmDebug.Engine.Compression;

namespace VmDebug.Engine.Vmcore;

/// <summary>What to do with all-zero pages in a kdump file.</summary>
public enum ZeroPagePolicy
{
    /// <summary>
    /// Keep them, all pointing at one stored zero page (QEMU's way). makedumpfile and crash read such pages as
    /// zeros; excluded ones are read errors for them (makedumpfile --dump-dmesg fails on a kernel whose printk
    /// descriptor ring sits in a zero page).
    /// </summary>
    Share,

    /// <summary>Leave them out of the dumpable bitmap (makedumpfile -d 1): smaller, but peers cannot read them.</summary>
    Exclude,
}

public sealed record KdumpWriteOptions
{
    public PageCompression Compression { get; init; } = PageCompression.Zlib;
    public ZeroPagePolicy ZeroPages { get; init; } = ZeroPagePolicy.Share;

    /// <summary>Batches compressed at once; defaults to the processor count.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;
}

/// <summary>
/// Writes a seekable compressed kdump file (header_version 6) that makedumpfile and crash read: header with
/// utsname from VMCOREINFO, sub-header with the true phys_base, notes and VMCOREINFO, both bitmaps, page
/// descriptors and pages compressed in parallel (stored raw when compression does not shrink them).
/// </summary>
public static class KdumpWriter
{
    private const string Machine = "x86_64";
    // disk_dump_header.status bits (makedumpfile diskdump_mod.h DUMP_DH_COMPRESSED_*).
    private const int StatusZlib = 0x1, StatusLzo = 0x2, StatusSnappy = 0x4, StatusZstd = 0x20;
    private const int NtPrstatus = 1;

    public static async Task WriteAsync(IGuestMemorySource source, Stream output, KdumpWriteOptions? options = null,
        IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(output);
        options ??= new KdumpWriteOptions();
        if (!output.CanSeek)
        {
            throw new ArgumentException("the output stream must be seekable", nameof(output));
        }
        PageBatches.Validate(source);
        PhysicalBounds.CheckSource(source);
        PhysicalBounds.CheckKdumpOutput(source);
        var codec = options.Compression == PageCompression.None ? null : PageCodec.Get(options.Compression);
        var pageSize = source.PageSize;
        var ranges = source.Ranges;
        var maxMapnr = ranges.Count == 0 ? 1 : (ranges[^1].End + (ulong)pageSize - 1) / (ulong)pageSize;
        var bitmapBytes = ElfVmcoreWriter.AlignUp((long)((maxMapnr + 7) / 8), pageSize);

        var info = VmcoreInfo.FromNotes(source.Notes);
        var notes = ElfNotes.Serialize(source.Notes);
        var vmcoreinfo = info is null ? [] : Encoding.UTF8.GetBytes(info.Text);
        var noteOffset = (long)pageSize + KdumpLayout.SubHeaderSize;
        var vmcoreinfoOffset = noteOffset + notes.Length;
        var subHeaderBlocks = (int)(ElfVmcoreWriter.AlignUp(KdumpLayout.SubHeaderSize + notes.Length + vmcoreinfo.Length, pageSize) / pageSize);
        var bitmapOffset = (1L + subHeaderBlocks) * pageSize;
        var descriptorsOffset = bitmapOffset + 2 * bitmapBytes;

        var present = new SparseBitmap();
        var dumpable = new SparseBitmap();
        long presentPages = 0;
        foreach (var range in ranges)
        {
            var first = range.Start / (ulong)pageSize;
            var end = (range.End + (ulong)pageSize - 1) / (ulong)pageSize;
            present.SetRange(first, end);
            presentPages += (long)(end - first);
        }
        // Room for a descriptor per present page plus the shared zero page; unused room stays a hole.
        var dataOffset = ElfVmcoreWriter.AlignUp(descriptorsOffset + (presentPages + 1) * KdumpLayout.PageDescSize, pageSize);
        var descriptors = new RegionWriter(output, descriptorsOffset, 256 * 1024);
        var data = new RegionWriter(output, dataOffset);

        long sharedZeroOffset = -1;
        uint sharedZeroSize = 0, sharedZeroFlags = 0;
        if (options.ZeroPages == ZeroPagePolicy.Share)
        {
            var zero = new byte[pageSize];
            var stored = new byte[Math.Max(pageSize, codec?.MaxCompressedLength(pageSize) ?? 0)];
            var length = CompressPage(codec, zero, stored, out sharedZeroFlags);
            sharedZeroOffset = data.Position;
            sharedZeroSize = (uint)length;
            await data.AppendAsync(stored.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        }

        var total = (long)PageBatches.TotalBytes(ranges);
        var reporter = new ProgressReporter(progress, $"Writing kdump ({options.Compression})", total);
        var batches = PageBatches.Plan(ranges, pageSize);
        long done = 0;
        var descriptor = new byte[KdumpLayout.PageDescSize];
        await PagePipeline.RunAsync(batches.Count,
            index => CompressBatch(source, batches[index], pageSize, codec),
            async batch =>
            {
                try
                {
                    for (var i = 0; i < batch.Batch.Count; i++)
                    {
                        var kind = batch.Kinds[i];
                        if (kind == PageKind.Absent || (kind == PageKind.Zero && sharedZeroOffset < 0))
                        {
                            continue;
                        }
                        var pfn = batch.Batch.FirstPfn + (ulong)i;
                        dumpable.Set(pfn);
                        long offset;
                        uint size, flags;
                        if (kind == PageKind.Zero)
                        {
                            (offset, size, flags) = (sharedZeroOffset, sharedZeroSize, sharedZeroFlags);
                        }
                        else
                        {
                            (offset, size, flags) = (data.Position, (uint)batch.Sizes[i], batch.Flags[i]);
                            await data.AppendAsync(batch.Data.AsMemory(batch.Offsets[i], batch.Sizes[i]), cancellationToken).ConfigureAwait(false);
                        }
                        BinaryPrimitives.WriteInt64LittleEndian(descriptor, offset);
                        BinaryPrimitives.WriteUInt32LittleEndian(descriptor.AsSpan(8), size);
                        BinaryPrimitives.WriteUInt32LittleEndian(descriptor.AsSpan(12), flags);
                        BinaryPrimitives.WriteUInt64LittleEndian(descriptor.AsSpan(16), 0);
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
            Math.Max(1, options.MaxDegreeOfParallelism), cancellationToken).ConfigureAwait(false);
        await descriptors.FlushAsync(cancellationToken).ConfigureAwait(false);
        await data.FlushAsync(cancellationToken).ConfigureAwait(false);

        var header = BuildHeader(pageSize, subHeaderBlocks, (int)(2 * bitmapBytes / pageSize), maxMapnr, options.Compression,
            info?.OsRelease ?? "", Math.Max(1, source.Notes.Count(n => n.Type == NtPrstatus && n.Name == "CORE")));
        var sub = new byte[KdumpLayout.SubHeaderSize];
        var s = sub.AsSpan();
        BinaryPrimitives.WriteInt64LittleEndian(s, info?.PhysBase ?? 0);
        BinaryPrimitives.WriteInt32LittleEndian(s[KdumpLayout.SubDumpLevel..], options.ZeroPages == ZeroPagePolicy.Exclude ? 1 : 0);
        BinaryPrimitives.WriteUInt64LittleEndian(s[KdumpLayout.SubEndPfn..], Math.Min(maxMapnr, uint.MaxValue));
        BinaryPrimitives.WriteInt64LittleEndian(s[KdumpLayout.SubOffsetVmcoreinfo..], vmcoreinfo.Length > 0 ? vmcoreinfoOffset : 0);
        BinaryPrimitives.WriteInt64LittleEndian(s[KdumpLayout.SubSizeVmcoreinfo..], vmcoreinfo.Length);
        BinaryPrimitives.WriteInt64LittleEndian(s[KdumpLayout.SubOffsetNote..], notes.Length > 0 ? noteOffset : 0);
        BinaryPrimitives.WriteInt64LittleEndian(s[KdumpLayout.SubSizeNote..], notes.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(s[KdumpLayout.SubEndPfn64..], maxMapnr);
        BinaryPrimitives.WriteUInt64LittleEndian(s[KdumpLayout.SubMaxMapnr64..], maxMapnr);

        output.Seek(0, SeekOrigin.Begin);
        await output.WriteAsync(header, cancellationToken).ConfigureAwait(false);
        output.Seek(pageSize, SeekOrigin.Begin);
        await output.WriteAsync(sub, cancellationToken).ConfigureAwait(false);
        await output.WriteAsync(notes, cancellationToken).ConfigureAwait(false);
        await output.WriteAsync(vmcoreinfo, cancellationToken).ConfigureAwait(false);
        await present.WriteAsync(output, bitmapOffset, bitmapBytes, cancellationToken).ConfigureAwait(false);
        await dumpable.WriteAsync(output, bitmapOffset + bitmapBytes, bitmapBytes, cancellationToken).ConfigureAwait(false);
        output.SetLength(Math.Max(data.Position, dataOffset));
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        reporter.Complete("Done", total);
    }

    private enum PageKind : byte
    {
        Absent,
        Zero,
        Stored,
    }

    private sealed record CompressedBatch(PageBatch Batch, byte[] Data, int[] Offsets, int[] Sizes, uint[] Flags, PageKind[] Kinds);

    private static CompressedBatch CompressBatch(IGuestMemorySource source, PageBatch batch, int pageSize, PageCodec? codec)
    {
        var page = ArrayPool<byte>.Shared.Rent(pageSize);
        var slot = Math.Max(pageSize, codec?.MaxCompressedLength(pageSize) ?? 0);
        var scratch = ArrayPool<byte>.Shared.Rent(slot);
        var data = ArrayPool<byte>.Shared.Rent(batch.Count * pageSize);
        var offsets = new int[batch.Count];
        var sizes = new int[batch.Count];
        var flags = new uint[batch.Count];
        var kinds = new PageKind[batch.Count];
        try
        {
            var used = 0;
            var zeros = source as IKnownZeroPages;
            for (var i = 0; i < batch.Count; i++)
            {
                if (zeros?.KnownZeroPages(batch.FirstPfn + (ulong)i, batch.Count - i) is > 0 and var run)
                {
                    kinds.AsSpan(i, run).Fill(PageKind.Zero);
                    i += run - 1;
                    continue;
                }
                var span = page.AsSpan(0, pageSize);
                if (!source.ReadPage(batch.FirstPfn + (ulong)i, span))
                {
                    kinds[i] = PageKind.Absent;
                    continue;
                }
                if (!span.ContainsAnyExcept((byte)0))
                {
                    kinds[i] = PageKind.Zero;
                    continue;
                }
                var length = CompressPage(codec, span, scratch, out flags[i]);
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
    private static int CompressPage(PageCodec? codec, ReadOnlySpan<byte> page, Span<byte> scratch, out uint flags)
    {
        if (codec is not null)
        {
            var length = codec.Compress(page, scratch);
            if (length < page.Length)
            {
                flags = FlagOf(codec.Kind);
                return length;
            }
        }
        page.CopyTo(scratch);
        flags = 0;
        return page.Length;
    }

    private static uint FlagOf(PageCompression kind) => kind switch
    {
        PageCompression.Zlib => KdumpLayout.FlagZlib,
        PageCompression.Lzo => KdumpLayout.FlagLzo,
        PageCompression.Snappy => KdumpLayout.FlagSnappy,
        PageCompression.Zstd => KdumpLayout.FlagZstd,
        _ => 0,
    };

    private static byte[] BuildHeader(int blockSize, int subHeaderBlocks, int bitmapBlocks, ulong maxMapnr, PageCompression compression,
        string release, int cpus)
    {
        var header = new byte[KdumpLayout.DiskDumpHeaderSize];
        var h = header.AsSpan();
        KdumpLayout.Signature.CopyTo(h);
        BinaryPrimitives.WriteInt32LittleEndian(h[8..], KdumpLayout.HeaderVersion);
        WriteUtsField(h, KdumpLayout.UtsSysname, "Linux");
        WriteUtsField(h, KdumpLayout.UtsRelease, release);
        WriteUtsField(h, KdumpLayout.UtsMachine, Machine);
        // struct timeval at 408 (after utsname and alignment).
        var now = DateTimeOffset.UtcNow;
        BinaryPrimitives.WriteInt64LittleEndian(h[408..], now.ToUnixTimeSeconds());
        BinaryPrimitives.WriteInt64LittleEndian(h[416..], now.Millisecond * 1000L);
        BinaryPrimitives.WriteInt32LittleEndian(h[KdumpLayout.Status..], compression switch
        {
            PageCompression.Zlib => StatusZlib,
            PageCompression.Lzo => StatusLzo,
            PageCompression.Snappy => StatusSnappy,
            PageCompression.Zstd => StatusZstd,
            _ => 0,
        });
        BinaryPrimitives.WriteInt32LittleEndian(h[KdumpLayout.BlockSize..], blockSize);
        BinaryPrimitives.WriteInt32LittleEndian(h[KdumpLayout.SubHeaderBlocks..], subHeaderBlocks);
        BinaryPrimitives.WriteInt32LittleEndian(h[KdumpLayout.BitmapBlocks..], bitmapBlocks);
        BinaryPrimitives.WriteUInt32LittleEndian(h[KdumpLayout.MaxMapnr32..], (uint)Math.Min(maxMapnr, uint.MaxValue));
        BinaryPrimitives.WriteInt32LittleEndian(h[KdumpLayout.NrCpus..], cpus);
        return header;
    }

    internal static void WriteUtsField(Span<byte> header, int offset, string value)
    {
        var field = header.Slice(offset, KdumpLayout.UtsFieldSize);
        field.Clear();
        var bytes = Encoding.ASCII.GetBytes(value);
        bytes.AsSpan(0, Math.Min(bytes.Length, KdumpLayout.UtsFieldSize - 1)).CopyTo(field);
    }
}
