namespace VmDebug.Engine.Vmcore;

/// <summary>
/// Limits every reader checks before any work and every writer checks before allocating, so a tiny hostile file
/// cannot make VmDebug allocate or loop in proportion to the sizes it claims, and no writer produces a file that
/// VmDebug's own readers would refuse.
/// </summary>
internal static class PhysicalBounds
{
    /// <summary>x86_64 MAX_PHYSMEM_BITS: 46 with 4-level paging, 52 with 5-level (la57).</summary>
    public const int FourLevelPhysicalBits = 46;
    public const int FiveLevelPhysicalBits = 52;

    /// <summary>Largest kdump bitmap (one bit per page: 1 GiB covers 32 TiB of 4 KiB pages).</summary>
    public const long MaxKdumpBitmapBytes = 1L << 30;

    /// <summary>Bitmap bytes a file may claim beyond the bytes it stores (a flattened stream's gaps read as zeros).</summary>
    private const long MaxUnstoredBitmapBytes = 64L << 20;

    /// <summary>
    /// The physical address limit for a dump: 2^46 when its VMCOREINFO says 4-level paging (pgtable_l5_enabled absent
    /// or 0), 2^52 when it says 5-level or gives no VMCOREINFO at all.
    /// </summary>
    public static ulong AddressLimit(VmcoreInfo? info) =>
        1UL << (info is null || info.Number("pgtable_l5_enabled") is > 0 ? FiveLevelPhysicalBits : FourLevelPhysicalBits);

    /// <summary>Throws when [start, start+length) reaches beyond what the guest's paging mode can address.</summary>
    public static void CheckRange(string path, long fieldOffset, ulong start, ulong length, VmcoreInfo? info, string what)
    {
        var limit = AddressLimit(info);
        if (start >= limit || length > limit - start)
        {
            throw new VmcoreFormatException(path, fieldOffset,
                $"{what} at physical 0x{start:x} ({length} bytes) reaches beyond the {Bits(limit)}-bit physical address space of x86_64 "
                + "(MAX_PHYSMEM_BITS)");
        }
    }

    /// <summary>
    /// Bitmaps must fit both the limit and the bytes the file really stores (a flattened stream can claim a huge
    /// reassembled length with a few kilobytes of records).
    /// </summary>
    public static void CheckKdumpBitmaps(DumpByteSource bytes, long bitmapBytes, long fieldOffset)
    {
        if (bitmapBytes > MaxKdumpBitmapBytes)
        {
            throw new VmcoreFormatException(bytes.Path, fieldOffset, $"bitmaps of {bitmapBytes} bytes each exceed the {MaxKdumpBitmapBytes}-byte limit");
        }
        // Streams may leave zero blocks out, so small bitmaps need not be stored; large ones must be.
        if (2 * bitmapBytes > Math.Max(bytes.StoredBytes, MaxUnstoredBitmapBytes))
        {
            throw new VmcoreFormatException(bytes.Path, fieldOffset,
                $"two bitmaps of {bitmapBytes} bytes each are more than the {bytes.StoredBytes} bytes the file stores");
        }
    }

    /// <summary>What every writer checks first: each range inside the address space the source's paging mode allows.</summary>
    public static void CheckSource(IGuestMemorySource source)
    {
        var limit = AddressLimit(VmcoreInfo.FromNotes(source.Notes));
        foreach (var range in source.Ranges)
        {
            if (range.Start >= limit || range.Length > limit - range.Start)
            {
                var name = SourceName(source);
                throw new VmDebugException("PhysicalRangeTooHigh", ErrorKind.LimitsExceeded,
                    $"{name}: memory at physical 0x{range.Start:x} ({range.Length} bytes) reaches beyond the {Bits(limit)}-bit physical address space "
                    + "of x86_64 (MAX_PHYSMEM_BITS); no reader would accept such a dump.", name);
            }
        }
    }

    public static string SourceName(IGuestMemorySource source) => source is VmcoreReader reader ? reader.Path : "the guest memory source";

    /// <summary>What a kdump writer checks before allocating: the bitmap its reader would accept.</summary>
    public static void CheckKdumpOutput(IGuestMemorySource source)
    {
        var ranges = source.Ranges;
        var pageSize = source.PageSize;
        if (ranges.Count == 0)
        {
            return;
        }
        var end = ranges[^1].End;
        var bitmapBytes = (end / (ulong)pageSize + 8) / 8;
        if (bitmapBytes > MaxKdumpBitmapBytes)
        {
            throw new VmDebugException("KdumpAddressSpaceTooLarge", ErrorKind.LimitsExceeded,
                $"{SourceName(source)}: memory up to physical 0x{end:x} needs kdump bitmaps of {bitmapBytes} bytes each, more than the {MaxKdumpBitmapBytes}-byte "
                + "limit kdump readers (VmDebug's included) accept; write it as ELF instead.", SourceName(source));
        }
    }

    private static int Bits(ulong limit) => System.Numerics.BitOperations.TrailingZeroCount(limit);
}
