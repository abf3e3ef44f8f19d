using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace VmDebug.Engine.Vmcore;

/// <summary>The ELF64 header fields a vmcore reader and the re-layout repair need.</summary>
internal sealed record ElfLayout(byte[] Ident, ushort Type, ushort Machine, uint Version, ulong Entry, ulong ProgramHeaderOffset,
    ulong SectionHeaderOffset, uint Flags, ushort HeaderSize, ushort ProgramHeaderEntrySize, ushort SectionHeaderCount,
    ElfProgramHeader[] ProgramHeaders, bool UsesExtendedNumbering)
{
    public const int EhdrSize = 64;
    public const int ShdrSize = 64;
    public const ushort PnXnum = 0xffff;
    public const int MaxProgramHeaders = 1 << 20;

    public static bool HasSignature(ReadOnlySpan<byte> head) => head.StartsWith("\u007fELF"u8);

    public static ElfLayout Read(DumpByteSource bytes)
    {
        var path = bytes.Path;
        var ehdr = bytes.ReadBytes(0, EhdrSize, "ELF header");
        if (!HasSignature(ehdr))
        {
            throw new VmcoreFormatException(path, 0, "no ELF signature");
        }
        if (ehdr[4] != 2 || ehdr[5] != 1)
        {
            throw new VmcoreFormatException(path, 4, $"ELF class {ehdr[4]} data {ehdr[5]}: only little-endian ELF64 vmcores are supported");
        }
        var span = ehdr.AsSpan();
        var type = BinaryPrimitives.ReadUInt16LittleEndian(span[16..]);
        if (type != 4)
        {
            throw new VmcoreFormatException(path, 16, $"ELF type {type} is not ET_CORE (4)");
        }
        var phoff = BinaryPrimitives.ReadUInt64LittleEndian(span[32..]);
        var shoff = BinaryPrimitives.ReadUInt64LittleEndian(span[40..]);
        var phentsize = BinaryPrimitives.ReadUInt16LittleEndian(span[54..]);
        var phnum = (uint)BinaryPrimitives.ReadUInt16LittleEndian(span[56..]);
        var shnum = BinaryPrimitives.ReadUInt16LittleEndian(span[60..]);
        if (phentsize != ElfProgramHeader.Size)
        {
            throw new VmcoreFormatException(path, 54, $"e_phentsize {phentsize} is not {ElfProgramHeader.Size}");
        }
        var extended = phnum == PnXnum;
        if (extended)
        {
            // PN_XNUM: the real count is sh_info of section header 0 (QEMU does this past 65534 ranges).
            if (shoff == 0 || shoff > (ulong)bytes.Length)
            {
                throw new VmcoreFormatException(path, 40, "e_phnum is PN_XNUM but there is no section header 0");
            }
            var shdr0 = bytes.ReadBytes((long)shoff, ShdrSize, "section header 0");
            phnum = BinaryPrimitives.ReadUInt32LittleEndian(shdr0.AsSpan(44));
        }
        if (phnum > MaxProgramHeaders || phoff > (ulong)bytes.Length || phnum * (ulong)ElfProgramHeader.Size > (ulong)bytes.Length - phoff)
        {
            throw new VmcoreFormatException(path, 32, $"{phnum} program headers at offset {phoff} do not fit in the file");
        }
        var table = bytes.ReadBytes((long)phoff, (int)phnum * ElfProgramHeader.Size, "program header table");
        var headers = new ElfProgramHeader[phnum];
        for (var i = 0; i < phnum; i++)
        {
            var p = table.AsSpan(i * ElfProgramHeader.Size);
            headers[i] = new ElfProgramHeader(
                BinaryPrimitives.ReadUInt32LittleEndian(p),
                BinaryPrimitives.ReadUInt32LittleEndian(p[4..]),
                BinaryPrimitives.ReadUInt64LittleEndian(p[8..]),
                BinaryPrimitives.ReadUInt64LittleEndian(p[16..]),
                BinaryPrimitives.ReadUInt64LittleEndian(p[24..]),
                BinaryPrimitives.ReadUInt64LittleEndian(p[32..]),
                BinaryPrimitives.ReadUInt64LittleEndian(p[40..]),
                BinaryPrimitives.ReadUInt64LittleEndian(p[48..]));
        }
        return new ElfLayout(ehdr[..16], type, BinaryPrimitives.ReadUInt16LittleEndian(span[18..]), BinaryPrimitives.ReadUInt32LittleEndian(span[20..]),
            BinaryPrimitives.ReadUInt64LittleEndian(span[24..]), phoff, shoff, BinaryPrimitives.ReadUInt32LittleEndian(span[48..]),
            BinaryPrimitives.ReadUInt16LittleEndian(span[52..]), phentsize, shnum, headers, extended);
    }
}

/// <summary>Reads ELF64 vmcores: PT_LOAD segments addressed by p_paddr, notes from every PT_NOTE.</summary>
public sealed class ElfVmcoreReader : VmcoreReader
{
    private const int Page = 4096;
    private readonly Load[] _loads; // sorted by physical start
    private readonly PhysicalRange[] _ranges;
    private readonly List<ElfNote> _notes;

    private readonly record struct Load(ulong Start, ulong FileSize, ulong MemorySize, long FileOffset);

    internal ElfVmcoreReader(DumpByteSource bytes, VmcoreFormat format)
        : base(bytes, format)
    {
        Layout = ElfLayout.Read(bytes);
        var path = bytes.Path;
        _notes = new List<ElfNote>();
        var loads = new List<Load>();
        long noteBytes = 0;
        foreach (var ph in Layout.ProgramHeaders)
        {
            if (ph.Type == ElfProgramHeader.PtNote)
            {
                noteBytes += (long)Math.Min(ph.FileSize, long.MaxValue / 2);
                if (noteBytes > ElfNotes.MaxNoteBytes || ph.Offset > (ulong)bytes.Length || ph.FileSize > (ulong)bytes.Length - ph.Offset)
                {
                    throw new VmcoreFormatException(path, (long)Math.Min(ph.Offset, long.MaxValue), $"PT_NOTE of {ph.FileSize} bytes is out of bounds");
                }
                var data = bytes.ReadBytes((long)ph.Offset, (int)ph.FileSize, "PT_NOTE segment");
                _notes.AddRange(CollectionsMarshal.AsSpan(ElfNotes.Parse(data, path, (long)ph.Offset)));
            }
            else if (ph.Type == ElfProgramHeader.PtLoad && ph.MemorySize > 0)
            {
                if (ph.FileSize > ph.MemorySize || ph.Offset > (ulong)bytes.Length || ph.FileSize > (ulong)bytes.Length - ph.Offset
                    || ph.PhysicalAddress > ulong.MaxValue - ph.MemorySize)
                {
                    throw new VmcoreFormatException(path, (long)Math.Min(ph.Offset, long.MaxValue),
                        $"PT_LOAD at physical 0x{ph.PhysicalAddress:x} ({ph.FileSize} of {ph.MemorySize} bytes) does not fit in the file");
                }
                // Bytes past p_filesz are not in the file; treating them as not dumped (as makedumpfile's excluded pages)
                // keeps work proportional to what the file holds, whatever p_memsz claims.
                if (ph.FileSize > 0)
                {
                    loads.Add(new Load(ph.PhysicalAddress, ph.FileSize, ph.FileSize, (long)ph.Offset));
                }
            }
            else if (ph.FileSize > 0 && (ph.Offset > (ulong)bytes.Length || ph.FileSize > (ulong)bytes.Length - ph.Offset))
            {
                // Not read, but the re-layout repair copies every segment: none may point outside the file.
                throw new VmcoreFormatException(path, (long)Math.Min(ph.Offset, long.MaxValue),
                    $"program header of type 0x{ph.Type:x} gives {ph.FileSize} bytes at offset {ph.Offset}, outside the file");
            }
        }
        // QEMU and the kernel write PT_LOADs in address order, so the (stable) sort is for other writers only.
        _loads = IsSortedByStart(loads) ? loads.ToArray() : loads.OrderBy(l => l.Start).ToArray();
        for (var i = 1; i < _loads.Length; i++)
        {
            if (_loads[i].Start < _loads[i - 1].Start + _loads[i - 1].MemorySize)
            {
                throw new VmcoreFormatException(path, _loads[i].FileOffset, $"PT_LOAD at physical 0x{_loads[i].Start:x} overlaps another");
            }
        }
        foreach (var load in _loads)
        {
            PhysicalBounds.CheckRange(path, load.FileOffset, load.Start, load.MemorySize, VmcoreInfo, "PT_LOAD");
        }
        var ranges = new PhysicalRange[_loads.Length];
        for (var i = 0; i < ranges.Length; i++)
        {
            ranges[i] = new PhysicalRange(_loads[i].Start, _loads[i].MemorySize);
        }
        _ranges = MergeRanges(ranges);
        PageSize = VmcoreInfo?.PageSize is int size && size >= 512 && size <= 1 << 20 && int.IsPow2(size) ? size : Page;
    }

    internal ElfLayout Layout { get; }

    public override int PageSize { get; }

    public override IReadOnlyList<PhysicalRange> Ranges => _ranges;

    public override IReadOnlyList<ElfNote> Notes => _notes;

    public override bool ReadPage(ulong pfn, Span<byte> page)
    {
        page = page[..PageSize];
        page.Clear();
        var start = pfn * (ulong)PageSize;
        var end = start + (ulong)PageSize;
        var found = false;
        // Segments need not be page aligned: copy every overlapping piece.
        var index = FirstLoadEndingAfter(start);
        for (var i = index; i < _loads.Length && _loads[i].Start < end; i++)
        {
            var load = _loads[i];
            var from = Math.Max(start, load.Start);
            var to = Math.Min(end, load.Start + load.MemorySize);
            if (from >= to)
            {
                continue;
            }
            found = true;
            var fileTo = Math.Min(to, load.Start + load.FileSize);
            if (from < fileTo)
            {
                Bytes.ReadExactly(load.FileOffset + (long)(from - load.Start), page.Slice((int)(from - start), (int)(fileTo - from)), "PT_LOAD data");
            }
        }
        return found;
    }

    /// <summary>One read per segment piece instead of one per page; only what no segment holds is zero-filled.</summary>
    public override void ReadPages(ulong firstPfn, int count, Span<byte> pages, Span<bool> present)
    {
        var size = (ulong)PageSize;
        var start = firstPfn * size;
        var end = start + (ulong)count * size;
        pages = pages[..(count * PageSize)];
        present[..count].Clear();
        var filled = start; // every byte below this is written
        for (var i = FirstLoadEndingAfter(start); i < _loads.Length && _loads[i].Start < end; i++)
        {
            var load = _loads[i];
            var from = Math.Max(start, load.Start);
            var to = Math.Min(end, load.Start + load.MemorySize);
            if (from >= to)
            {
                continue;
            }
            present[(int)(from / size - firstPfn)..(int)((to - 1) / size - firstPfn + 1)].Fill(true);
            // Loads are sorted and do not overlap, so from is at or past filled.
            pages[(int)(filled - start)..(int)(from - start)].Clear();
            var fileTo = Math.Min(to, load.Start + load.FileSize);
            if (from < fileTo)
            {
                Bytes.ReadExactly(load.FileOffset + (long)(from - load.Start), pages[(int)(from - start)..(int)(fileTo - start)], "PT_LOAD data");
            }
            filled = Math.Max(from, fileTo);
        }
        pages[(int)(filled - start)..].Clear();
    }

    private int FirstLoadEndingAfter(ulong address)
    {
        int lo = 0, hi = _loads.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_loads[mid].Start + _loads[mid].MemorySize <= address)
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

    private static bool IsSortedByStart(List<Load> loads)
    {
        for (var i = 1; i < loads.Count; i++)
        {
            if (loads[i].Start < loads[i - 1].Start)
            {
                return false;
            }
        }
        return true;
    }

    internal static PhysicalRange[] MergeRanges(ReadOnlySpan<PhysicalRange> sorted)
    {
        var merged = new List<PhysicalRange>();
        foreach (var range in sorted)
        {
            if (merged.Count > 0 && merged[^1].End >= range.Start)
            {
                var last = merged[^1];
                merged[^1] = new PhysicalRange(last.Start, Math.Max(last.End, range.End) - last.Start);
            }
            else
            {
                merged.Add(range);
            }
        }
        return merged.ToArray();
    }
}
