using System.Buffers.Binary;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.GuestKernel;

/// <summary>
/// The guest kernel's virtual address space, from VMCOREINFO alone (no vmlinux): kernel-image addresses through
/// NUMBER(phys_base), everything else by walking the kernel's page tables from SYMBOL(init_top_pgt), 4 or 5 levels
/// (NUMBER(pgtable_l5_enabled)), with 1 GiB and 2 MiB pages and the AMD SME C-bit (NUMBER(sme_mask)) masked off.
/// SYMBOL() values are already relocated by KASLR, so no offset is added to them. Recipe: makedumpfile
/// arch/x86_64.c (vtop4_x86_64) and the kernel's arch/x86/kernel/vmcore_info_64.c exports.
/// Not thread-safe; every read is bounded by <see cref="MaxReadBytes"/>.
/// </summary>
public sealed class KernelMemoryView
{
    /// <summary>Largest single read; guest-controlled sizes are checked against it before allocating.</summary>
    public const int MaxReadBytes = 64 * 1024 * 1024;

    /// <summary>x86_64 __START_KERNEL_map: where the kernel image is linked.</summary>
    public const ulong StartKernelMap = 0xffffffff80000000;

    private const int TablePage = 4096;
    private const ulong PresentBit = 1;
    private const ulong PageSizeBit = 0x80;
    private const ulong AddressBits = 0x000ffffffffff000; // bits 12..51 of an entry
    private const int CachedTables = 512;
    private const int CachedTranslations = 8192;

    private readonly IGuestPhysicalMemory _memory;
    private readonly ulong _entryMask;
    private readonly ulong _topTable;
    private readonly ulong _kernelImageEnd;
    private readonly Dictionary<ulong, byte[]?> _tables = new();
    private readonly Dictionary<ulong, ulong?> _translations = new();

    public KernelMemoryView(IGuestPhysicalMemory memory, VmcoreInfo vmcoreInfo)
    {
        _memory = memory;
        VmcoreInfo = vmcoreInfo;
        PhysBase = vmcoreInfo.PhysBase
            ?? throw Incomplete(memory.Name, "NUMBER(phys_base)");
        var top = vmcoreInfo.Symbol("init_top_pgt") ?? vmcoreInfo.Symbol("init_level4_pgt") ?? vmcoreInfo.Symbol("swapper_pg_dir")
            ?? throw Incomplete(memory.Name, "SYMBOL(init_top_pgt)");
        PagingLevels = vmcoreInfo.Number("pgtable_l5_enabled") == 1 ? 5 : 4;
        SmeMask = unchecked((ulong)(vmcoreInfo.Number("sme_mask") ?? 0));
        _entryMask = AddressBits & ~SmeMask;
        var imageSize = vmcoreInfo.Number("KERNEL_IMAGE_SIZE") is > 0 and var size && size <= 1L << 31 ? (ulong)size : 1UL << 30;
        _kernelImageEnd = StartKernelMap + imageSize;
        if (top < StartKernelMap || top >= _kernelImageEnd)
        {
            throw new GuestKernelException(GuestKernelException.VmcoreInfoIncomplete, ErrorKind.InvalidData, memory.Name,
                $"SYMBOL(init_top_pgt)={top:x} is outside the kernel image, so the page tables cannot be found.");
        }
        _topTable = ImageToPhysical(top);
    }

    public IGuestPhysicalMemory Memory => _memory;

    public VmcoreInfo VmcoreInfo { get; }

    /// <summary>NUMBER(phys_base): physical address of the kernel image minus its link-time offset (may be negative).</summary>
    public long PhysBase { get; }

    /// <summary>4, or 5 with LA57.</summary>
    public int PagingLevels { get; }

    /// <summary>NUMBER(sme_mask): the memory-encryption bit masked out of every page-table entry.</summary>
    public ulong SmeMask { get; }

    /// <summary>Guest-physical address of <paramref name="virtualAddress"/>, or null when the page tables do not map it.</summary>
    public ulong? Translate(ulong virtualAddress)
    {
        if (virtualAddress >= StartKernelMap && virtualAddress < _kernelImageEnd)
        {
            return ImageToPhysical(virtualAddress);
        }
        var page = virtualAddress & ~(ulong)(TablePage - 1);
        if (!_translations.TryGetValue(page, out var physicalPage))
        {
            physicalPage = Walk(page);
            if (_translations.Count == CachedTranslations)
            {
                _translations.Clear();
            }
            _translations[page] = physicalPage;
        }
        return physicalPage is { } p ? p + (virtualAddress & (TablePage - 1)) : null;
    }

    /// <summary>Reads kernel virtual memory; false when any page is unmapped or not in the source.</summary>
    public bool TryRead(ulong virtualAddress, Span<byte> buffer)
    {
        if (buffer.Length > MaxReadBytes)
        {
            return false;
        }
        var done = 0;
        while (done < buffer.Length)
        {
            var at = virtualAddress + (ulong)done;
            if (at < virtualAddress)
            {
                return false; // wrapped past the top of the address space
            }
            // One physical read per contiguous run keeps live sources (one QMP call a read) fast.
            var physical = Translate(at);
            if (physical is null)
            {
                return false;
            }
            var run = Math.Min(TablePage - (int)(at % TablePage), buffer.Length - done);
            while (done + run < buffer.Length && Translate(at + (ulong)run) == physical + (ulong)run)
            {
                run = Math.Min(run + TablePage, buffer.Length - done);
            }
            if (!_memory.TryRead(physical.Value, buffer.Slice(done, run)))
            {
                return false;
            }
            done += run;
        }
        return true;
    }

    /// <summary>Reads kernel virtual memory or throws <see cref="GuestKernelException"/> naming <paramref name="what"/>.</summary>
    public void Read(ulong virtualAddress, Span<byte> buffer, string what)
    {
        if (buffer.Length > MaxReadBytes)
        {
            throw new GuestKernelException(GuestKernelException.ReadTooLarge, ErrorKind.LimitsExceeded, _memory.Name,
                $"{what} would be {buffer.Length} bytes, more than the {MaxReadBytes}-byte bound.");
        }
        if (!TryRead(virtualAddress, buffer))
        {
            throw Unmapped(virtualAddress, buffer.Length, what);
        }
    }

    /// <summary>Reads <paramref name="length"/> bytes (bounded by <see cref="MaxReadBytes"/>) at a kernel virtual address.</summary>
    public byte[] ReadBytes(ulong virtualAddress, long length, string what)
    {
        if (length < 0 || length > MaxReadBytes)
        {
            throw new GuestKernelException(GuestKernelException.ReadTooLarge, ErrorKind.LimitsExceeded, _memory.Name,
                $"{what} would be {length} bytes, more than the {MaxReadBytes}-byte bound.");
        }
        var bytes = GC.AllocateUninitializedArray<byte>((int)length); // Read fills every byte or throws
        Read(virtualAddress, bytes, what);
        return bytes;
    }

    public ulong ReadUInt64(ulong virtualAddress, string what)
    {
        Span<byte> value = stackalloc byte[8];
        Read(virtualAddress, value, what);
        return BinaryPrimitives.ReadUInt64LittleEndian(value);
    }

    public uint ReadUInt32(ulong virtualAddress, string what)
    {
        Span<byte> value = stackalloc byte[4];
        Read(virtualAddress, value, what);
        return BinaryPrimitives.ReadUInt32LittleEndian(value);
    }

    internal GuestKernelException Unmapped(ulong virtualAddress, int length, string what) =>
        new(GuestKernelException.AddressUnmapped, ErrorKind.ReadError, _memory.Name,
            $"{what} ({length} bytes at kernel address 0x{virtualAddress:x}) is not mapped by the guest's page tables or not in the source.");

    private ulong ImageToPhysical(ulong virtualAddress) => unchecked(virtualAddress - StartKernelMap + (ulong)PhysBase);

    private ulong? Walk(ulong virtualAddress)
    {
        if (!IsCanonical(virtualAddress))
        {
            return null;
        }
        var table = _topTable;
        for (var level = PagingLevels; level >= 1; level--)
        {
            var shift = 12 + 9 * (level - 1);
            var entry = Entry(table, (int)((virtualAddress >> shift) & 0x1ff));
            if (entry is not { } e || (e & PresentBit) == 0)
            {
                return null;
            }
            // PSE at the PUD (1 GiB) and PMD (2 MiB) levels ends the walk early.
            if ((level == 3 || level == 2) && (e & PageSizeBit) != 0)
            {
                var large = 1UL << shift;
                return (e & _entryMask & ~(large - 1)) + (virtualAddress & (large - 1) & ~(ulong)(TablePage - 1));
            }
            table = e & _entryMask;
        }
        return table;
    }

    private ulong? Entry(ulong table, int index)
    {
        if (!_tables.TryGetValue(table, out var page))
        {
            page = new byte[TablePage];
            if (!_memory.TryRead(table, page))
            {
                page = null;
            }
            if (_tables.Count == CachedTables)
            {
                _tables.Clear();
            }
            _tables[table] = page;
        }
        return page is null ? null : BinaryPrimitives.ReadUInt64LittleEndian(page.AsSpan(index * 8));
    }

    private bool IsCanonical(ulong virtualAddress)
    {
        var bits = PagingLevels == 5 ? 57 : 48;
        var high = virtualAddress >> (bits - 1);
        return high == 0 || high == (1UL << (65 - bits)) - 1;
    }

    private static GuestKernelException Incomplete(string source, string key) =>
        new(GuestKernelException.VmcoreInfoIncomplete, ErrorKind.InvalidData, source,
            $"VMCOREINFO has no {key}, which the kernel memory view needs to translate addresses.");
}
