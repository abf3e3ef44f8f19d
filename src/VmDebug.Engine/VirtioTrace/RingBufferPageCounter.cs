using System.Buffers.Binary;

namespace VmDebug.Engine.VirtioTrace;

/// <summary>
/// Counts what one CPU's trace_pipe_raw stream holds, page by page, as it streams past: the stream is whole
/// ring-buffer sub-buffers (struct buffer_data_page: u64 time_stamp, local_t commit, data), and events are walked by
/// their type_len (kernel include/linux/ring_buffer.h, kernel/trace/ring_buffer.c). The guest writes these bytes, so
/// every length is checked against the page before it is followed.
/// </summary>
internal sealed class RingBufferPageCounter
{
    /// <summary>x86-64 (the page header's layout from events/header_page: commit is 8 bytes at 8, data at 16).</summary>
    public const int DefaultPageSize = 4096;
    private const int HeaderSize = 16;
    // commit's low 27 bits are the bytes used; the top of its low word carries the flags (kernel RB_MISSED_*).
    private const long CommitMask = (1 << 27) - 1;
    private const long MissedEvents = 1L << 31, MissedStored = 1L << 30;
    private const int TypePadding = 29, TypeTimeExtend = 30, TypeTimeStamp = 31;

    private readonly byte[] _page;
    private int _filled;

    public RingBufferPageCounter(int pageSize = DefaultPageSize)
    {
        if (pageSize < 64 || pageSize > 1 << 20 || (pageSize & (pageSize - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(pageSize), pageSize, "a power of two from 64 bytes to 1 MiB");
        }

        _page = new byte[pageSize];
    }

    public long Bytes { get; private set; }
    /// <summary>Bytes as last published by the reading thread, for progress from another thread.</summary>
    internal long BytesSnapshot
    {
        get => Volatile.Read(ref _bytesSnapshot);
        set => Volatile.Write(ref _bytesSnapshot, value);
    }

    private long _bytesSnapshot;
    public long Pages { get; private set; }
    public long Events { get; private set; }
    /// <summary>Pages whose header says events were lost before them (RB_MISSED_EVENTS).</summary>
    public long PagesWithLostEvents { get; private set; }
    /// <summary>Lost events the kernel counted and stored at the end of a page (RB_MISSED_STORED).</summary>
    public long LostEvents { get; private set; }
    /// <summary>Pages whose commit or events do not fit in the page: counted as far as they were sound.</summary>
    public long MalformedPages { get; private set; }
    /// <summary>Bytes at the end of the stream that do not make a whole page.</summary>
    public int TrailingBytes => _filled;

    public void Add(ReadOnlySpan<byte> data)
    {
        Bytes += data.Length;
        while (!data.IsEmpty)
        {
            var take = Math.Min(data.Length, _page.Length - _filled);
            data[..take].CopyTo(_page.AsSpan(_filled));
            _filled += take;
            data = data[take..];
            if (_filled == _page.Length)
            {
                CountPage(_page);
                _filled = 0;
            }
        }
    }

    private void CountPage(ReadOnlySpan<byte> page)
    {
        Pages++;
        var commit = BinaryPrimitives.ReadInt64LittleEndian(page[8..]);
        if ((commit & MissedEvents) != 0)
        {
            PagesWithLostEvents++;
        }

        var used = commit & CommitMask;
        var end = HeaderSize + (int)Math.Min(used, page.Length - HeaderSize);
        var malformed = used > page.Length - HeaderSize;
        if (!malformed && (commit & MissedStored) != 0 && end + 8 <= page.Length)
        {
            LostEvents += Math.Max(0, BinaryPrimitives.ReadInt64LittleEndian(page[end..]));
        }

        var offset = HeaderSize;
        while (offset + 4 <= end)
        {
            var header = BinaryPrimitives.ReadUInt32LittleEndian(page[offset..]);
            var typeLen = (int)(header & 31);
            var timeDelta = header >> 5;
            if (typeLen == TypePadding && timeDelta == 0)
            {
                break; // the rest of the page is padding
            }

            var length = typeLen switch
            {
                // A large event (0) or a discarded one (padding with a delta): array[0] is the length, itself included.
                0 or TypePadding => offset + 8 <= end ? 4L + BinaryPrimitives.ReadUInt32LittleEndian(page[(offset + 4)..]) : -1,
                TypeTimeExtend or TypeTimeStamp => 8,
                _ => 4 + typeLen * 4L,
            };
            if (length < 8 || offset + length > end)
            {
                malformed = true;
                break;
            }
            if (typeLen <= 28)
            {
                Events++;
            }

            offset += (int)length;
        }
        if (malformed)
        {
            MalformedPages++;
        }
    }
}
