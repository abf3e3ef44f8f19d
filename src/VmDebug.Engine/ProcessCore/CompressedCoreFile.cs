using System.Buffers.Binary;
using VmDebug.Engine.Compression;

namespace VmDebug.Engine.ProcessCore;

/// <summary>
/// A process core compressed as a whole (systemd-coredump's .zst/.lz4/.xz), read without ever decompressing it to
/// disk. The first pass, at open, streams it once: it keeps the headers, the notes and QEMU's small mappings (heap,
/// stacks, video RAM, ROMs: their non-zero pages, within a budget), and in the big mappings only the pages that can
/// hold the guest's VMCOREINFO note or its utsname. Given a <see cref="StreamedRamWriter"/>, it also hands over the
/// non-zero pages of the biggest such mapping (guest RAM, most likely: QEMU's command line, which says for sure, is
/// on the stack at the very end of the core), so an ELF vmcore is written in that same pass. Otherwise guest RAM is
/// read in a second sequential pass when the vmcore is written; a small window of recent blocks absorbs the
/// writers' slightly out-of-order parallel reads, and a read further back restarts the stream (counted in
/// <see cref="Passes"/>). In the first pass zstd and lz4 decode on the reader's thread into small buffers, each chunk
/// scanned and written while it is still in cache (zstd without a copy out of libzstd: <see cref="ZstdRingDecoder"/>);
/// xz, and every second pass, decode a few blocks ahead on a thread of their own.
/// </summary>
internal sealed class CompressedCoreFile : SparseFile
{
    private const int Page = 4096;
    private const int BlockBytes = 1 << 20;
    private const int RingBlocks = 16;
    private const int ReadAheadBlocks = 4;
    private const int MaxProgramHeaders = 65535;
    private const long SmallMappingBytes = 64L << 20;
    private const long MaxCapturedBytes = 256L << 20;
    private const int MaxCandidatePages = 4096;
    private const int NotePages = 5; // 24-byte note header plus at most four pages of VMCOREINFO text
    private const uint PtLoad = 1, PtNote = 4, PfExecute = 1;

    private static ReadOnlySpan<byte> VmcoreInfoNoteHead => [11, 0, 0, 0];
    private static ReadOnlySpan<byte> VmcoreInfoNoteName => "VMCOREINFO\0"u8;

    // struct new_utsname starts with sysname[65] = "Linux" and NULs (include/uapi/linux/utsname.h).
    private static readonly byte[] UtsSysname = [.. "Linux"u8, .. new byte[60]];

    private readonly CoreFileCompression _format;
    private readonly Dictionary<long, byte[]> _pages = [];
    private readonly List<long> _pageOrder = []; // captured page numbers, ascending
    private readonly List<FileExtent> _complete = []; // ranges whose every non-zero page is captured
    private readonly CapturedView _captured;
    private long _length;

    private readonly object _gate = new();
    private readonly byte[]?[] _ring = new byte[RingBlocks][];
    private readonly long[] _ringBlock = new long[RingBlocks];
    private readonly int[] _ringLength = new int[RingBlocks];
    private DecompressedBlocks? _blocks;
    private long _nextBlock;

    private CompressedCoreFile(string path, CoreFileCompression format) : base(path)
    {
        _format = format;
        _captured = new CapturedView(this);
        Array.Fill(_ringBlock, -1);
    }

    public CoreFileCompression Format => _format;

    public override long Length => _length;

    /// <summary>Sequential passes over the compressed data so far (1 after open).</summary>
    public int Passes { get; private set; }

    public override SparseFile Captured => _captured;

    public static CoreFileCompression? FormatOf(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0x28, 0xb5, 0x2f, 0xfd]))
        {
            return CoreFileCompression.Zstd;
        }
        if (head.StartsWith((ReadOnlySpan<byte>)[0x04, 0x22, 0x4d, 0x18]))
        {
            return CoreFileCompression.Lz4;
        }
        return head.StartsWith((ReadOnlySpan<byte>)[0xfd, (byte)'7', (byte)'z', (byte)'X', (byte)'Z', 0]) ? CoreFileCompression.Xz : null;
    }

    /// <summary>
    /// True when only the headers and notes were read (<see cref="OpenHeaders"/>): enough to list the core, not to
    /// extract it; <see cref="Length"/> is then the length read so far.
    /// </summary>
    public bool HeadersOnly { get; private set; }

    /// <summary>The file range of the mapping whose pages went to the <see cref="StreamedRamWriter"/>, if any did.</summary>
    public FileExtent? StreamedRam { get; private set; }

    public static CompressedCoreFile Open(string path, CoreFileCompression format, CancellationToken cancellationToken) =>
        Open(path, format, headersOnly: false, null, cancellationToken);

    /// <summary>Opens the core and hands the biggest RAM candidate's non-zero pages to <paramref name="ramWriter"/> on the way.</summary>
    public static CompressedCoreFile Open(string path, CoreFileCompression format, StreamedRamWriter ramWriter, CancellationToken cancellationToken) =>
        Open(path, format, headersOnly: false, ramWriter, cancellationToken);

    /// <summary>Decompresses only the ELF headers and the notes that follow them (the start of the file).</summary>
    public static CompressedCoreFile OpenHeaders(string path, CoreFileCompression format, CancellationToken cancellationToken) =>
        Open(path, format, headersOnly: true, null, cancellationToken);

    private static CompressedCoreFile Open(string path, CoreFileCompression format, bool headersOnly, StreamedRamWriter? ramWriter,
        CancellationToken cancellationToken)
    {
        var core = new CompressedCoreFile(path, format) { HeadersOnly = headersOnly };
        try
        {
            core.FirstPass(ramWriter, cancellationToken);
            return core;
        }
        catch
        {
            core.Dispose();
            throw;
        }
    }

    /// <summary>A decompressing stream over the file, from its start.</summary>
    internal static Stream Decompress(string path, CoreFileCompression format)
    {
        var file = new FileStream(Files.ReadOnlyFile.Open(path, "ProcessCore", "core file"), FileAccess.Read, 1 << 16);
        try
        {
            return format switch
            {
                CoreFileCompression.Zstd => new ZstdDecompressionStream(file, path),
                CoreFileCompression.Xz => new XzDecompressionStream(file, path),
                _ => new Lz4DecompressionStream(file, path),
            };
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private enum Policy
    {
        Keep, // small mapping, headers, notes: keep every non-zero page
        Scan, // big mapping (guest RAM): keep candidate pages only
        Skip, // executable (TCG's code buffer, libraries)
    }

    private readonly record struct Region(long Start, long End, Policy Policy, bool IsNote);

    private void FirstPass(StreamedRamWriter? ramWriter, CancellationToken cancellationToken)
    {
        Passes = 1;
        // Listing reads only the first block or two: no thread for that. zstd decodes into a ring with no copy out of
        // libzstd; lz4 and xz into blocks their decoders fill.
        using var headerStream = HeadersOnly ? Decompress(Path, _format) : null;
        using var chunks = HeadersOnly ? null
            : _format == CoreFileCompression.Zstd ? new ZstdRingDecoder(Path, cancellationToken)
            : _format == CoreFileCompression.Lz4 ? new StreamChunks(Decompress(Path, _format))
            : (IDecompressedChunks)new DecompressedBlocks(Decompress(Path, _format), BlockBytes, ReadAheadBlocks, cancellationToken);
        var block = HeadersOnly ? GC.AllocateUninitializedArray<byte>(BlockBytes) : [];
        int start = 0, filled = 0;
        bool Next()
        {
            if (chunks is null)
            {
                filled = DecompressedBlocks.Fill(headerStream!, block);
                return filled > 0;
            }
            return chunks.TryNext(out block, out start, out filled);
        }
        Next();
        var head = block.AsSpan(start, filled);
        if (filled < 64 || !head.StartsWith("\u007fELF"u8) || head[4] != 2 || head[5] != 1)
        {
            throw new ProcessCoreException(ProcessCoreException.NotACore, ErrorKind.InvalidData, Path,
                $"the {_format} data is not an ELF64 little-endian file, so not a process core.");
        }
        var phoff = BinaryPrimitives.ReadUInt64LittleEndian(head[32..]);
        var phentsize = BinaryPrimitives.ReadUInt16LittleEndian(head[54..]);
        var phnum = BinaryPrimitives.ReadUInt16LittleEndian(head[56..]);
        if (phentsize != 56 || phnum == 0 || phnum == MaxProgramHeaders || phoff > BlockBytes - (ulong)phnum * 56 || phoff < 64)
        {
            throw new ProcessCoreException(ProcessCoreException.NotACore, ErrorKind.InvalidData, Path,
                $"program headers ({phnum} of {phentsize} bytes at {phoff}) are not where a Linux process core puts them.");
        }
        var headersEnd = (int)phoff + phnum * 56;
        if (filled < headersEnd)
        {
            throw new ProcessCoreException(ProcessCoreException.Truncated, ErrorKind.InvalidData, Path, "the core ends inside its program headers.");
        }
        var regions = Regions(head.Slice((int)phoff, phnum * 56), phnum);
        var streamed = ramWriter is null ? -1 : BiggestScanRegion(regions);
        if (streamed >= 0)
        {
            StreamedRam = new FileExtent(regions[streamed].Start, regions[streamed].End);
        }
        // Notes beyond the first 64 MiB are not a Linux core's.
        var stopAt = HeadersOnly ? Math.Min(regions.Where(r => r.IsNote).Select(r => r.End).DefaultIfEmpty(headersEnd).Max(), SmallMappingBytes) : long.MaxValue;
        var budget = MaxCapturedBytes;
        var candidates = 0;
        var pendingPages = 0; // pages still to keep after a VMCOREINFO or utsname candidate
        var region = 0;
        long offset = 0;
        var completeStart = 0L;
        var overBudget = false;
        var runStart = -1; // start in the block of non-zero pages still to hand to the RAM writer
        void FlushRun(int end)
        {
            if (runStart >= 0)
            {
                ramWriter!(offset + runStart - regions[streamed].Start, block.AsSpan(start + runStart, end - runStart));
                runStart = -1;
            }
        }
        while (filled > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (var at = 0; at < filled; at += Page)
            {
                var page = block.AsSpan(start + at, Math.Min(Page, filled - at));
                var pageOffset = offset + at;
                while (region < regions.Count && regions[region].End <= pageOffset)
                {
                    region++;
                }
                // Offsets outside every region (the ELF header, padding) are kept like small mappings.
                var policy = region < regions.Count && regions[region].Start <= pageOffset ? regions[region].Policy : Policy.Keep;
                var keep = false;
                var toWriter = false;
                switch (policy)
                {
                    case Policy.Keep when !overBudget:
                        keep = page.ContainsAnyExcept((byte)0);
                        if (keep && (budget -= Page) < 0)
                        {
                            overBudget = true;
                            keep = false;
                            _complete.Add(new FileExtent(completeStart, pageOffset));
                        }
                        break;
                    case Policy.Scan:
                        var nonZero = page.ContainsAnyExcept((byte)0);
                        toWriter = nonZero && region == streamed;
                        if (pendingPages > 0)
                        {
                            pendingPages--;
                            keep = true;
                        }
                        else if (candidates < MaxCandidatePages && nonZero)
                        {
                            if (IsVmcoreInfoNote(page))
                            {
                                keep = true;
                                pendingPages = NotePages - 1;
                                candidates += NotePages;
                            }
                            else if (page.IndexOf(UtsSysname) >= 0)
                            {
                                // The release field sits 130 bytes on and may cross into the next page.
                                keep = true;
                                pendingPages = 1;
                                candidates += 2;
                            }
                        }
                        break;
                }
                if (toWriter)
                {
                    runStart = runStart < 0 ? at : runStart;
                }
                else
                {
                    FlushRun(at);
                }
                if (keep)
                {
                    var number = pageOffset / Page;
                    _pages[number] = page.ToArray();
                    _pageOrder.Add(number);
                }
            }
            FlushRun(filled);
            offset += filled;
            if (offset >= stopAt || !Next())
            {
                break;
            }
        }
        _length = offset;
        if (!overBudget)
        {
            _complete.Add(new FileExtent(completeStart, offset));
        }
        // Scanned and skipped regions are not complete: cut them out of the complete ranges.
        var incomplete = regions.Where(r => r.Policy != Policy.Keep).Select(r => new FileExtent(r.Start, r.End)).ToList();
        var complete = new List<FileExtent>();
        foreach (var range in _complete)
        {
            var cursor = range.Start;
            foreach (var hole in incomplete.Where(h => h.End > range.Start && h.Start < range.End))
            {
                if (hole.Start > cursor)
                {
                    complete.Add(new FileExtent(cursor, hole.Start));
                }
                cursor = Math.Max(cursor, hole.End);
            }
            if (cursor < range.End)
            {
                complete.Add(new FileExtent(cursor, range.End));
            }
        }
        _complete.Clear();
        _complete.AddRange(complete);
    }

    private static int BiggestScanRegion(List<Region> regions)
    {
        var biggest = -1;
        for (var i = 0; i < regions.Count; i++)
        {
            if (regions[i].Policy == Policy.Scan && (biggest < 0 || regions[i].End - regions[i].Start > regions[biggest].End - regions[biggest].Start))
            {
                biggest = i;
            }
        }
        return biggest;
    }

    private static bool IsVmcoreInfoNote(ReadOnlySpan<byte> page) =>
        page.Length >= 24 && page.StartsWith(VmcoreInfoNoteHead) && BinaryPrimitives.ReadUInt32LittleEndian(page[8..]) == 0
        && page[12..].StartsWith(VmcoreInfoNoteName);

    /// <summary>The file ranges of the notes and mappings, sorted by offset, with what the first pass keeps of each.</summary>
    private static List<Region> Regions(ReadOnlySpan<byte> headers, int count)
    {
        var regions = new List<Region>();
        for (var i = 0; i < count; i++)
        {
            var ph = headers.Slice(i * 56, 56);
            var type = BinaryPrimitives.ReadUInt32LittleEndian(ph);
            var flags = BinaryPrimitives.ReadUInt32LittleEndian(ph[4..]);
            var fileOffset = BinaryPrimitives.ReadUInt64LittleEndian(ph[8..]);
            var fileSize = BinaryPrimitives.ReadUInt64LittleEndian(ph[32..]);
            if ((type != PtLoad && type != PtNote) || fileSize == 0 || fileOffset > long.MaxValue / 2 || fileSize > long.MaxValue / 2)
            {
                continue;
            }
            var policy = type == PtNote ? Policy.Keep
                : (flags & PfExecute) != 0 ? Policy.Skip
                : fileSize <= SmallMappingBytes ? Policy.Keep
                : Policy.Scan;
            regions.Add(new Region((long)fileOffset, (long)(fileOffset + fileSize), policy, type == PtNote));
        }
        regions.Sort((a, b) => a.Start.CompareTo(b.Start));
        return regions;
    }

    private bool IsComplete(long offset)
    {
        // The ranges are sorted and disjoint: find the last one starting at or before offset.
        int lo = 0, hi = _complete.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_complete[mid].Start <= offset)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo > 0 && offset < _complete[lo - 1].End;
    }

    public override int Read(long offset, Span<byte> buffer) => Read(offset, buffer, stream: true);

    private int Read(long offset, Span<byte> buffer, bool stream)
    {
        if (offset >= _length)
        {
            return 0;
        }
        buffer = buffer[..(int)Math.Min(buffer.Length, _length - offset)];
        var done = 0;
        while (done < buffer.Length)
        {
            var at = offset + done;
            var within = (int)(at % Page);
            var piece = buffer.Slice(done, Math.Min(Page - within, buffer.Length - done));
            if (_pages.TryGetValue(at / Page, out var page))
            {
                page.AsSpan(within, piece.Length).CopyTo(piece);
            }
            else if (!stream || IsComplete(at))
            {
                piece.Clear();
            }
            else
            {
                ReadStreamed(at, piece);
            }
            done += piece.Length;
        }
        return done;
    }

    /// <summary>Reads from the second pass's stream, restarting it when the read lies behind its window.</summary>
    private void ReadStreamed(long offset, Span<byte> buffer)
    {
        lock (_gate)
        {
            while (!buffer.IsEmpty)
            {
                var block = offset / BlockBytes;
                var slot = (int)(block % RingBlocks);
                if (_ringBlock[slot] != block)
                {
                    if (_blocks is null || block < _nextBlock)
                    {
                        Restart();
                    }
                    while (_nextBlock <= block)
                    {
                        var target = (int)(_nextBlock % RingBlocks);
                        if (_blocks!.TryNext(out var data, out var length))
                        {
                            if (_ring[target] is { } old)
                            {
                                _blocks.Return(old);
                            }
                            _ring[target] = data;
                            _ringLength[target] = length;
                        }
                        else
                        {
                            _ringLength[target] = 0;
                        }
                        _ringBlock[target] = _nextBlock++;
                    }
                }
                var within = (int)(offset % BlockBytes);
                var n = Math.Min(buffer.Length, _ringLength[slot] - within);
                if (n <= 0)
                {
                    throw ProcessCoreFile.Truncation(this, offset + buffer.Length, "its data");
                }
                _ring[slot].AsSpan(within, n).CopyTo(buffer);
                buffer = buffer[n..];
                offset += n;
            }
        }
    }

    private void Restart()
    {
        _blocks?.Dispose();
        _blocks = null;
        _blocks = new DecompressedBlocks(Decompress(Path, _format), BlockBytes, ReadAheadBlocks, CancellationToken.None);
        Passes++;
        _nextBlock = 0;
        Array.Fill(_ringBlock, -1);
    }

    public override List<FileExtent> DataExtents(long start, long end, CancellationToken cancellationToken) => Extents(start, end, completeOnly: false);

    /// <summary>Captured pages within complete ranges; elsewhere (unless <paramref name="completeOnly"/>) everything may be data.</summary>
    private List<FileExtent> Extents(long start, long end, bool completeOnly)
    {
        end = Math.Min(end, _length);
        var extents = new List<FileExtent>();
        void Add(long from, long to)
        {
            if (to <= from)
            {
                return;
            }
            if (extents.Count > 0 && extents[^1].End == from)
            {
                extents[^1] = new FileExtent(extents[^1].Start, to);
            }
            else
            {
                extents.Add(new FileExtent(from, to));
            }
        }
        // Between captured pages: zero inside complete ranges, unknown (so data) elsewhere.
        void AddGap(long from, long to)
        {
            if (completeOnly)
            {
                return;
            }
            foreach (var range in _complete)
            {
                if (range.End <= from || range.Start >= to)
                {
                    continue;
                }
                Add(from, Math.Max(from, range.Start));
                from = Math.Max(from, range.End);
            }
            Add(from, to);
        }
        var index = _pageOrder.BinarySearch(start / Page);
        index = index < 0 ? ~index : index;
        var cursor = start;
        for (; index < _pageOrder.Count && _pageOrder[index] * Page < end; index++)
        {
            var pageStart = _pageOrder[index] * Page;
            if (pageStart > cursor)
            {
                AddGap(cursor, pageStart);
            }
            Add(Math.Max(pageStart, start), Math.Min(pageStart + Page, end));
            cursor = Math.Max(cursor, pageStart + Page);
        }
        if (cursor < end)
        {
            AddGap(cursor, end);
        }
        return extents;
    }

    public override void Dispose()
    {
        lock (_gate)
        {
            _blocks?.Dispose();
            _blocks = null;
        }
    }

    /// <summary>The first pass's pages only: reads elsewhere are zero and never start a stream.</summary>
    private sealed class CapturedView(CompressedCoreFile core) : SparseFile(core.Path)
    {
        public override long Length => core.Length;

        public override int Read(long offset, Span<byte> buffer) => core.Read(offset, buffer, stream: false);

        public override List<FileExtent> DataExtents(long start, long end, CancellationToken cancellationToken) =>
            core.Extents(start, end, completeOnly: true);

        public override void Dispose()
        {
            // The view belongs to the core.
        }
    }
}
