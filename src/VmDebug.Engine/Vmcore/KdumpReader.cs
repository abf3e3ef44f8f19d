using System.Buffers;
using System.Numerics;
using VmDebug.Engine.Compression;
using VmDebug.Engine.Dump;

namespace VmDebug.Engine.Vmcore;

/// <summary>
/// Reads compressed kdump files: header, sub-header (notes, VMCOREINFO), two bitmaps (memory present, page dumped),
/// one page_desc per dumped page in PFN order, pages compressed with zlib/LZO/snappy/zstd or stored raw.
/// </summary>
public sealed class KdumpReader : VmcoreReader
{
    private const int MaxRanges = 4 << 20;
    private const int WordsPerRankBlock = 8;

    private readonly ulong[] _dumpable;
    private readonly long[] _rankBlocks;
    private readonly PhysicalRange[] _ranges;
    private readonly List<ElfNote> _notes;
    private readonly long _descriptorsOffset;
    private readonly long _dumpedPages;

    internal KdumpReader(DumpByteSource bytes, VmcoreFormat format)
        : base(bytes, format)
    {
        var path = bytes.Path;
        var headerBytes = bytes.ReadBytes(0, KdumpLayout.DiskDumpHeaderSize, "kdump header");
        if (!DiskDumpHeader.HasSignature(headerBytes))
        {
            throw new VmcoreFormatException(path, 0, "no KDUMP signature");
        }
        var header = DiskDumpHeader.Read(headerBytes);
        HeaderVersion = header.HeaderVersion;
        var blockSize = header.BlockSize;
        if (blockSize < 512 || blockSize > 1 << 20 || !int.IsPow2(blockSize))
        {
            throw new VmcoreFormatException(path, KdumpLayout.BlockSize, $"block size {blockSize} is not a power of two between 512 and 1 MiB");
        }
        PageSize = blockSize;
        var subHeaderBlocks = header.SubHeaderBlocks;
        var bitmapBlocks = header.BitmapBlocks;
        if (HeaderVersion < 1 || HeaderVersion > 255)
        {
            throw new VmcoreFormatException(path, KdumpLayout.Version, $"header version {HeaderVersion} is not a kdump header version");
        }
        if (subHeaderBlocks < 0 || bitmapBlocks <= 0 || bitmapBlocks % 2 != 0
            || (1L + subHeaderBlocks + bitmapBlocks) * blockSize > bytes.Length)
        {
            throw new VmcoreFormatException(path, KdumpLayout.SubHeaderBlocks,
                $"{subHeaderBlocks} sub-header blocks and {bitmapBlocks} bitmap blocks of {blockSize} bytes do not fit in the file");
        }
        Utsname = header.Utsname;
        NrCpus = header.NrCpus;

        ulong maxMapnr = header.MaxMapnr32;
        _notes = new List<ElfNote>();
        if (subHeaderBlocks > 0)
        {
            var sub = KdumpSubHeader.Read(bytes.ReadBytes(blockSize, KdumpLayout.SubHeaderSize, "kdump sub-header"));
            HeaderPhysBase = sub.PhysBase;
            DumpLevel = sub.DumpLevel;
            if (HeaderVersion >= 6)
            {
                maxMapnr = sub.MaxMapnr64;
            }
            if (HeaderVersion >= 4)
            {
                ReadNotes(sub, blockSize);
            }
        }

        var bitmapBytes = (long)bitmapBlocks / 2 * blockSize;
        PhysicalBounds.CheckKdumpBitmaps(bytes, bitmapBytes, KdumpLayout.BitmapBlocks);
        if (maxMapnr == 0 || maxMapnr > (ulong)bitmapBytes * 8)
        {
            throw new VmcoreFormatException(path, KdumpLayout.MaxMapnr32, $"max_mapnr {maxMapnr} does not match bitmaps of {bitmapBytes} bytes");
        }
        MaxMapnr = maxMapnr;
        var bitmapOffset = (1L + subHeaderBlocks) * blockSize;
        var present = ReadBitmap(bytes, bitmapOffset, maxMapnr, "first (memory) bitmap");
        _dumpable = ReadBitmap(bytes, bitmapOffset + bitmapBytes, maxMapnr, "second (dumpable) bitmap");
        _ranges = RunsOf(present, maxMapnr, (ulong)blockSize, path, bitmapOffset);
        if (_ranges.Length > 0)
        {
            PhysicalBounds.CheckRange(path, bitmapOffset, _ranges[^1].Start, _ranges[^1].Length, VmcoreInfo, "the memory bitmap's last range");
        }

        _rankBlocks = new long[_dumpable.Length / WordsPerRankBlock + 1];
        long count = 0;
        for (var w = 0; w < _dumpable.Length; w++)
        {
            if (w % WordsPerRankBlock == 0)
            {
                _rankBlocks[w / WordsPerRankBlock] = count;
            }
            count += BitOperations.PopCount(_dumpable[w]);
        }
        _dumpedPages = count;
        _descriptorsOffset = bitmapOffset + 2 * bitmapBytes;
        if (count > (bytes.Length - _descriptorsOffset) / KdumpLayout.PageDescSize)
        {
            throw new VmcoreFormatException(path, _descriptorsOffset, $"{count} page descriptors do not fit in the file");
        }
    }

    public override int PageSize { get; }

    public override IReadOnlyList<PhysicalRange> Ranges => _ranges;

    public override IReadOnlyList<ElfNote> Notes => _notes;

    public int HeaderVersion { get; }

    /// <summary>sysname, nodename, release, version, machine, domainname from the header.</summary>
    public IReadOnlyList<string> Utsname { get; }

    public string Release => Utsname[2];

    public string Machine => Utsname[4];

    public int NrCpus { get; }

    /// <summary>phys_base as the sub-header states it (QEMU up to at least 7.2 writes a wrong one).</summary>
    public long HeaderPhysBase { get; }

    public int DumpLevel { get; }

    public ulong MaxMapnr { get; }

    /// <summary>Pages with a page descriptor (set in the dumpable bitmap).</summary>
    public long DumpedPageCount => _dumpedPages;

    public override bool ReadPage(ulong pfn, Span<byte> page)
    {
        page = page[..PageSize];
        if (pfn >= MaxMapnr || (_dumpable[pfn / 64] & (1UL << (int)(pfn % 64))) == 0)
        {
            page.Clear();
            return false;
        }
        var descOffset = _descriptorsOffset + Rank(pfn) * KdumpLayout.PageDescSize;
        Span<byte> desc = stackalloc byte[KdumpLayout.PageDescSize];
        Bytes.ReadExactly(descOffset, desc, $"page descriptor of PFN {pfn}");
        var (offset, size, flags, _) = PageDescriptor.Read(desc);
        if (size == 0 || size > (uint)PageSize || offset < 0 || offset > Bytes.Length - size)
        {
            throw new VmcoreFormatException(Path, descOffset, $"page descriptor of PFN {pfn} gives {size} bytes at offset {offset}, outside the file or larger than a page");
        }
        var compression = flags & DumpFormats.CompressionPageFlags;
        if (compression == 0)
        {
            if (size != PageSize)
            {
                throw new VmcoreFormatException(Path, descOffset, $"uncompressed page of PFN {pfn} is {size} bytes, not {PageSize}");
            }
            Bytes.ReadExactly(offset, page, $"page of PFN {pfn}");
            return true;
        }
        var kind = DumpFormats.CompressionOfPageFlag(compression)
            ?? throw new VmcoreFormatException(Path, descOffset, $"page descriptor of PFN {pfn} has conflicting compression flags 0x{flags:x}");
        var codec = PageCodec.Get(kind);
        var compressed = ArrayPool<byte>.Shared.Rent((int)size);
        try
        {
            Bytes.ReadExactly(offset, compressed.AsSpan(0, (int)size), $"compressed page of PFN {pfn}");
            var produced = codec.Decompress(compressed.AsSpan(0, (int)size), page);
            if (produced != PageSize)
            {
                throw new VmcoreFormatException(Path, offset, $"{kind} data of PFN {pfn} does not decompress to one {PageSize}-byte page");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(compressed);
        }
        return true;
    }

    /// <summary>True when the page has a descriptor in the dump.</summary>
    public bool IsDumped(ulong pfn) => pfn < MaxMapnr && (_dumpable[pfn / 64] & (1UL << (int)(pfn % 64))) != 0;

    private long Rank(ulong pfn)
    {
        var word = (int)(pfn / 64);
        var rank = _rankBlocks[word / WordsPerRankBlock];
        for (var w = word - word % WordsPerRankBlock; w < word; w++)
        {
            rank += BitOperations.PopCount(_dumpable[w]);
        }
        return rank + BitOperations.PopCount(_dumpable[word] & ((1UL << (int)(pfn % 64)) - 1));
    }

    private void ReadNotes(KdumpSubHeader sub, int blockSize)
    {
        var path = Bytes.Path;
        var noteOffset = sub.OffsetNote;
        var noteSize = sub.SizeNote;
        if (noteSize > 0)
        {
            CheckRegion(noteOffset, noteSize, ElfNotes.MaxNoteBytes, "notes", blockSize + KdumpLayout.SubOffsetNote);
            _notes.AddRange(ElfNotes.Parse(Bytes.ReadBytes(noteOffset, (int)noteSize, "notes"), path, noteOffset));
        }
        var infoOffset = sub.OffsetVmcoreinfo;
        var infoSize = sub.SizeVmcoreinfo;
        if (infoSize > 0 && !_notes.Any(n => n.Name == VmcoreInfo.NoteName))
        {
            // makedumpfile stores VMCOREINFO text apart from the notes; present it as the note it came from.
            CheckRegion(infoOffset, infoSize, VmcoreInfo.MaxBytes, "VMCOREINFO", blockSize + KdumpLayout.SubOffsetVmcoreinfo);
            _notes.Add(new ElfNote(VmcoreInfo.NoteName, 0, Bytes.ReadBytes(infoOffset, (int)infoSize, "VMCOREINFO")));
        }
    }

    private void CheckRegion(long offset, long size, int limit, string what, long fieldOffset)
    {
        if (size > limit || offset < 0 || offset > Bytes.Length - size)
        {
            throw new VmcoreFormatException(Bytes.Path, fieldOffset, $"{what} of {size} bytes at offset {offset} is out of bounds (limit {limit} bytes)");
        }
    }

    private static ulong[] ReadBitmap(DumpByteSource bytes, long offset, ulong bits, string what)
    {
        var byteCount = (int)((bits + 7) / 8);
        var words = new ulong[(byteCount + 7) / 8];
        var raw = System.Runtime.InteropServices.MemoryMarshal.AsBytes(words.AsSpan())[..byteCount];
        bytes.ReadExactly(offset, raw, what);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("kdump bitmaps are read as little-endian words");
        }
        var tailBits = (int)(bits % 64);
        if (tailBits != 0)
        {
            words[^1] &= (1UL << tailBits) - 1; // bits beyond max_mapnr mean nothing
        }
        return words;
    }

    private static PhysicalRange[] RunsOf(ulong[] bitmap, ulong bits, ulong pageSize, string path, long offset)
    {
        var ranges = new List<PhysicalRange>();
        ulong pfn = 0;
        while (pfn < bits)
        {
            var start = NextBit(bitmap, pfn, bits, set: true);
            if (start >= bits)
            {
                break;
            }
            var end = NextBit(bitmap, start, bits, set: false);
            if (ranges.Count == MaxRanges)
            {
                throw new VmcoreFormatException(path, offset, $"the memory bitmap describes more than {MaxRanges} ranges");
            }
            ranges.Add(new PhysicalRange(start * pageSize, (end - start) * pageSize));
            pfn = end;
        }
        return ranges.ToArray();
    }

    private static ulong NextBit(ulong[] bitmap, ulong from, ulong bits, bool set)
    {
        var word = (int)(from / 64);
        var value = set ? bitmap[word] : ~bitmap[word];
        value &= ~0UL << (int)(from % 64);
        while (value == 0)
        {
            if (++word >= bitmap.Length)
            {
                return bits;
            }
            value = set ? bitmap[word] : ~bitmap[word];
        }
        return Math.Min(bits, (ulong)word * 64 + (ulong)BitOperations.TrailingZeroCount(value));
    }
}
