using VmDebug.Engine.GuestKernel;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.Dump;

/// <summary>
/// The memory of a guest QEMU has paused for its dump, read through QMP <c>pmemsave</c> while QEMU's writer waits on
/// the full pipe: the ranges and notes are those the dump stream's head announced, so classifying pages here gives
/// what classifying the finished dump would. Reads go in aligned blocks of <see cref="BlockBytes"/> (a struct page
/// run or a page table costs one round trip per block, not per page), and only the last few blocks are kept.
/// </summary>
internal sealed class PausedGuestMemory : IGuestMemorySource
{
    private const int BlockBytes = 1 << 20;
    private const int CachedBlocks = 8;

    private readonly QmpPhysicalMemory _memory;
    private readonly LinkedList<(ulong Start, byte[] Bytes)> _blocks = new();
    private readonly object _lock = new();

    public PausedGuestMemory(QmpPhysicalMemory memory, ElfStreamHead head)
    {
        _memory = memory;
        PageSize = head.PageSize;
        Ranges = head.Ranges;
        Notes = head.Notes;
    }

    public int PageSize { get; }

    public IReadOnlyList<PhysicalRange> Ranges { get; }

    public IReadOnlyList<ElfNote> Notes { get; }

    public bool ReadPage(ulong pfn, Span<byte> page)
    {
        page = page[..PageSize];
        var address = pfn * (ulong)PageSize;
        if (Ranges.FirstOrDefault(r => address >= r.Start && address + (ulong)PageSize <= r.End) is not { Length: > 0 } range)
        {
            page.Clear();
            return false;
        }
        lock (_lock)
        {
            var block = Block(address, range);
            block.Bytes.AsSpan((int)(address - block.Start), PageSize).CopyTo(page);
            return true;
        }
    }

    private (ulong Start, byte[] Bytes) Block(ulong address, PhysicalRange range)
    {
        for (var node = _blocks.First; node is not null; node = node.Next)
        {
            var (start, bytes) = node.Value;
            if (address >= start && address - start < (ulong)bytes.Length)
            {
                _blocks.Remove(node);
                _blocks.AddFirst(node);
                return node.Value;
            }
        }
        var aligned = address & ~(ulong)(BlockBytes - 1);
        var first = Math.Max(aligned, range.Start);
        var end = Math.Min(aligned + BlockBytes, range.End);
        var read = new byte[end - first];
        if (!_memory.TryRead(first, read))
        {
            throw new GuestKernelException(GuestKernelException.LiveReadFailed, ErrorKind.ReadError, _memory.Name,
                $"pmemsave could not read physical 0x{first:x}-0x{end:x}, which the dump lists as RAM.");
        }
        if (_blocks.Count == CachedBlocks)
        {
            _blocks.RemoveLast();
        }
        _blocks.AddFirst((first, read));
        return (first, read);
    }

    // The QMP reader belongs to the caller.
    public void Dispose()
    {
    }
}
