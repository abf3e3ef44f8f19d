using System.Buffers.Binary;

namespace VmDebug.Engine.Vmcore;

/// <summary>
/// makedumpfile's flattened stream (what QEMU's kdump-* formats write): a 4096-byte header "makedumpfile\0",
/// type 1, version 1 (big-endian i64), then records {BE i64 offset, BE i64 size, data} ending with offset -1.
/// Indexed in one pass over the record headers; reads map the reassembled file's offsets to the stream.
/// Later records win where records overlap, as when `makedumpfile -R` replays them.
/// </summary>
internal sealed class FlattenedByteSource : DumpByteSource
{
    public const int HeaderSize = 4096;
    public static ReadOnlySpan<byte> Signature => "makedumpfile\0"u8;

    private readonly DumpByteSource _stream;
    private readonly Segment[] _segments; // sorted by Target, non-overlapping

    private FlattenedByteSource(DumpByteSource stream, Segment[] segments, long length, int recordCount, bool overlapping)
        : base(stream.Path)
    {
        _stream = stream;
        _segments = segments;
        Length = length;
        RecordCount = recordCount;
        HasOverlappingRecords = overlapping;
        StoredBytes = segments.Sum(s => s.Size);
    }

    /// <summary>One run of bytes of the reassembled file stored at <see cref="Source"/> in the stream.</summary>
    public readonly record struct Segment(long Target, long Size, long Source)
    {
        public long TargetEnd => Target + Size;
    }

    public override long Length { get; }

    public int RecordCount { get; }

    public override long StoredBytes { get; }

    public override IEnumerable<(long Start, long End)> DataRuns(long from, long to)
    {
        for (var i = LowerBound(_segments, from); i < _segments.Length && _segments[i].Target < to; i++)
        {
            yield return (Math.Max(from, _segments[i].Target), Math.Min(to, _segments[i].TargetEnd));
        }
    }

    public bool HasOverlappingRecords { get; }

    /// <summary>The reassembled file's data runs, sorted; gaps between them read as zeros.</summary>
    public IReadOnlyList<Segment> Segments => _segments;

    public static bool HasSignature(ReadOnlySpan<byte> head) => head.StartsWith(Signature);

    /// <summary>Indexes the stream; takes ownership of <paramref name="stream"/>.</summary>
    public static FlattenedByteSource Open(DumpByteSource stream)
    {
        try
        {
            return Index(stream);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private static FlattenedByteSource Index(DumpByteSource stream)
    {
        Span<byte> header = stackalloc byte[32];
        stream.ReadExactly(0, header, "flattened-format header");
        if (!HasSignature(header))
        {
            throw new VmcoreFormatException(stream.Path, 0, "no makedumpfile flattened-format signature");
        }
        var type = BinaryPrimitives.ReadInt64BigEndian(header[16..]);
        var version = BinaryPrimitives.ReadInt64BigEndian(header[24..]);
        if (type != 1 || version != 1)
        {
            throw new VmcoreFormatException(stream.Path, 16, $"flattened-format type {type} version {version} (only type 1 version 1 exist)");
        }

        var records = new List<Segment>();
        long pos = HeaderSize;
        long length = 0;
        Span<byte> recordHeader = stackalloc byte[16];
        while (true)
        {
            stream.ReadExactly(pos, recordHeader, "flattened record header (stream truncated before its end marker?)");
            var target = BinaryPrimitives.ReadInt64BigEndian(recordHeader);
            var size = BinaryPrimitives.ReadInt64BigEndian(recordHeader[8..]);
            if (target == -1)
            {
                break;
            }
            if (target < 0 || size < 0 || size > stream.Length - pos - 16 || target > long.MaxValue - size)
            {
                throw new VmcoreFormatException(stream.Path, pos, $"flattened record with offset {target} and size {size} is out of bounds");
            }
            if (size > 0)
            {
                records.Add(new Segment(target, size, pos + 16));
                length = Math.Max(length, target + size);
            }
            pos += 16 + size;
        }

        var sorted = records.OrderBy(r => r.Target).ToArray();
        var overlapping = false;
        for (var i = 1; i < sorted.Length; i++)
        {
            if (sorted[i].Target < sorted[i - 1].TargetEnd)
            {
                overlapping = true;
                break;
            }
        }
        var segments = overlapping ? ResolveLastWriterWins(records) : sorted;
        return new FlattenedByteSource(stream, segments, length, records.Count, overlapping);
    }

    /// <summary>Keeps, for every byte, only the record written last (newest first, adding only uncovered parts).</summary>
    private static Segment[] ResolveLastWriterWins(List<Segment> records)
    {
        var covered = new List<Segment>(); // sorted by Target, non-overlapping
        for (var r = records.Count - 1; r >= 0; r--)
        {
            var record = records[r];
            var start = record.Target;
            var end = record.TargetEnd;
            var index = LowerBound(covered, start);
            var pieces = new List<Segment>();
            var cursor = start;
            for (var i = index; i < covered.Count && covered[i].Target < end; i++)
            {
                if (covered[i].Target > cursor)
                {
                    pieces.Add(new Segment(cursor, covered[i].Target - cursor, record.Source + (cursor - start)));
                }
                cursor = Math.Max(cursor, covered[i].TargetEnd);
            }
            if (cursor < end)
            {
                pieces.Add(new Segment(cursor, end - cursor, record.Source + (cursor - start)));
            }
            foreach (var piece in pieces)
            {
                covered.Insert(LowerBound(covered, piece.Target), piece);
            }
        }
        return covered.ToArray();
    }

    // First index whose segment ends after offset.
    private static int LowerBound(IReadOnlyList<Segment> segments, long offset)
    {
        int lo = 0, hi = segments.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (segments[mid].TargetEnd <= offset)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo;
    }

    public override int Read(long offset, Span<byte> buffer)
    {
        if (offset >= Length)
        {
            return 0;
        }
        var count = (int)Math.Min(buffer.Length, Length - offset);
        var output = buffer[..count];
        var index = LowerBound(_segments, offset);
        var cursor = offset;
        var end = offset + count;
        while (cursor < end)
        {
            if (index >= _segments.Length || _segments[index].Target >= end)
            {
                output[(int)(cursor - offset)..].Clear();
                break;
            }
            var segment = _segments[index];
            if (segment.Target > cursor)
            {
                output.Slice((int)(cursor - offset), (int)(segment.Target - cursor)).Clear();
                cursor = segment.Target;
            }
            var take = Math.Min(end, segment.TargetEnd) - cursor;
            _stream.ReadExactly(segment.Source + (cursor - segment.Target), output.Slice((int)(cursor - offset), (int)take), "flattened record data");
            cursor += take;
            index++;
        }
        return count;
    }

    public override void Dispose() => _stream.Dispose();
}
