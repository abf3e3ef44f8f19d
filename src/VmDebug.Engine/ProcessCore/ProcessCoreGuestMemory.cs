using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.ProcessCore;

/// <summary>
/// Guest-physical memory read straight out of QEMU's RAM mapping in a process core. Pages that fall in a hole of
/// the sparse core (never touched by the guest, skipped by the kernel's core writer) are zero without any read.
/// </summary>
internal sealed class ProcessCoreGuestMemory : IGuestMemorySource, IKnownZeroPages
{
    private const int Page = 4096;

    private readonly SparseFile _file;
    private readonly CoreSegment _ram;
    private readonly GuestRamRange[] _layout;
    private readonly FileExtent[] _extents; // data extents of the RAM segment, sorted
    private readonly DeviceMemoryBlock[] _devices;
    private readonly PhysicalRange[] _ranges;
    private List<ElfNote> _notes = [];

    public ProcessCoreGuestMemory(SparseFile file, CoreSegment ram, GuestMemoryLayout layout, IReadOnlyList<FileExtent> extents,
        IReadOnlyList<DeviceMemoryBlock>? devices = null)
    {
        _file = file;
        _ram = ram;
        _layout = layout.Ranges.ToArray();
        _extents = extents.ToArray();
        _devices = devices?.ToArray() ?? [];
        _ranges = _layout.Select(r => new PhysicalRange(r.GuestPhysical, r.Length))
            .Concat(_devices.Select(d => new PhysicalRange(d.GuestPhysical, d.Length)))
            .OrderBy(r => r.Start)
            .ToArray();
    }

    public int PageSize => Page;

    public IReadOnlyList<PhysicalRange> Ranges => _ranges;

    public IReadOnlyList<ElfNote> Notes => _notes;

    /// <summary>Bytes of the RAM segment that hold data in the core file (the rest are holes).</summary>
    public long DataBytes => _extents.Sum(e => e.End - e.Start);

    internal IReadOnlyList<FileExtent> Extents => _extents;

    internal CoreSegment RamSegment => _ram;

    internal IReadOnlyList<GuestRamRange> Layout => _layout;

    internal IReadOnlyList<DeviceMemoryBlock> Devices => _devices;

    internal void SetNotes(IEnumerable<ElfNote> notes) => _notes = notes.ToList();

    public bool ReadPage(ulong pfn, Span<byte> page)
    {
        page = page[..Page];
        var address = pfn * Page;
        var range = FindRange(address);
        if (range is not { } r)
        {
            return ReadDevicePage(address, page);
        }
        // Ranges are page aligned for every layout QEMU builds; an explicit odd range reads what lies inside it.
        var within = (int)Math.Min((ulong)Page, r.End - address);
        if (within < Page)
        {
            page[within..].Clear();
        }
        ReadRam(address - r.GuestPhysical + r.RamOffset, page[..within]);
        return true;
    }

    public int KnownZeroPages(ulong pfn, int maxPages)
    {
        var address = pfn * Page;
        if (FindRange(address) is not { } r || address % Page != 0)
        {
            return 0;
        }
        var fileOffset = _ram.FileOffset + (long)(address - r.GuestPhysical + r.RamOffset);
        var index = FirstExtentEndingAfter(fileOffset);
        // A hole runs to the next data extent, the end of the range or the end of the mapping's data.
        var holeEnd = index < _extents.Length ? _extents[index].Start : long.MaxValue;
        if (holeEnd <= fileOffset)
        {
            return 0;
        }
        var rangeEnd = _ram.FileOffset + (long)(r.End - r.GuestPhysical + r.RamOffset);
        var pages = (Math.Min(holeEnd, rangeEnd) - fileOffset) / Page;
        return (int)Math.Min(pages, maxPages);
    }

    private bool ReadDevicePage(ulong address, Span<byte> page)
    {
        foreach (var block in _devices)
        {
            if (address >= block.GuestPhysical && address < block.End)
            {
                var within = (int)Math.Min((ulong)page.Length, block.End - address);
                page[within..].Clear();
                var offset = block.Segment.FileOffset + (long)(address - block.GuestPhysical);
                if (_file.Read(offset, page[..within]) < within)
                {
                    throw ProcessCoreFile.Truncation(_file, offset + within, block.Name);
                }
                return true;
            }
        }
        page.Clear();
        return false;
    }

    /// <summary>Reads RAM at <paramref name="ramOffset"/>; holes of the core read as zero without I/O.</summary>
    internal void ReadRam(ulong ramOffset, Span<byte> buffer)
    {
        if (ramOffset >= _ram.FileSize || (ulong)buffer.Length > _ram.FileSize - ramOffset)
        {
            throw new ArgumentOutOfRangeException(nameof(ramOffset), "read past the RAM mapping");
        }
        var fileOffset = _ram.FileOffset + (long)ramOffset;
        var end = fileOffset + buffer.Length;
        var index = FirstExtentEndingAfter(fileOffset);
        var cursor = fileOffset;
        for (var i = index; i < _extents.Length && _extents[i].Start < end; i++)
        {
            var from = Math.Max(cursor, _extents[i].Start);
            var to = Math.Min(end, _extents[i].End);
            if (from > cursor)
            {
                buffer.Slice((int)(cursor - fileOffset), (int)(from - cursor)).Clear();
            }
            var n = _file.Read(from, buffer.Slice((int)(from - fileOffset), (int)(to - from)));
            if (n < to - from)
            {
                throw ProcessCoreFile.Truncation(_file, to, "guest RAM");
            }
            cursor = to;
        }
        if (cursor < end)
        {
            buffer[(int)(cursor - fileOffset)..].Clear();
        }
    }

    /// <summary>The guest-physical address of a RAM offset, or null when no range maps it.</summary>
    internal ulong? ToPhysical(ulong ramOffset)
    {
        foreach (var r in _layout)
        {
            if (ramOffset >= r.RamOffset && ramOffset - r.RamOffset < r.Length)
            {
                return r.GuestPhysical + (ramOffset - r.RamOffset);
            }
        }
        return null;
    }

    /// <summary>Reads guest-physical memory; false when any of it lies outside guest RAM.</summary>
    internal bool ReadPhysical(ulong address, Span<byte> buffer)
    {
        if (FindRange(address) is not { } r || (ulong)buffer.Length > r.End - address)
        {
            return false;
        }
        ReadRam(address - r.GuestPhysical + r.RamOffset, buffer);
        return true;
    }

    private GuestRamRange? FindRange(ulong address)
    {
        foreach (var r in _layout)
        {
            if (address >= r.GuestPhysical && address < r.End)
            {
                return r;
            }
        }
        return null;
    }

    private int FirstExtentEndingAfter(long offset)
    {
        int lo = 0, hi = _extents.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_extents[mid].End <= offset)
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

    public void Dispose()
    {
        // The file belongs to the ProcessCoreFile that opened it.
    }
}
