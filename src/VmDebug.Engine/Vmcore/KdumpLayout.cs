namespace VmDebug.Engine.Vmcore;

/// <summary>
/// Offsets in makedumpfile's disk_dump_header (x86_64, 464 bytes) and kdump_sub_header (header_version 6),
/// per makedumpfile diskdump_mod.h and QEMU include/sysemu/dump.h.
/// </summary>
internal static class KdumpLayout
{
    public static ReadOnlySpan<byte> Signature => "KDUMP   "u8;
    public const int HeaderVersion = 6;
    public const int DiskDumpHeaderSize = 464;
    public const int Version = 8;
    public const int UtsFieldSize = 65;
    public const int UtsSysname = 12;
    public const int UtsNodename = UtsSysname + UtsFieldSize;
    public const int UtsRelease = UtsNodename + UtsFieldSize;
    public const int UtsVersion = UtsRelease + UtsFieldSize;
    public const int UtsMachine = UtsVersion + UtsFieldSize;
    // struct timeval, after utsname and alignment.
    public const int TimestampSeconds = 408;
    public const int TimestampMicroseconds = 416;
    public const int Status = 424;
    public const int BlockSize = 428;
    public const int SubHeaderBlocks = 432;
    public const int BitmapBlocks = 436;
    public const int MaxMapnr32 = 440;
    public const int TotalRamBlocks = 444;
    public const int DeviceBlocks = 448;
    public const int WrittenBlocks = 452;
    public const int CurrentCpu = 456;
    public const int NrCpus = 460;

    // kdump_sub_header, at block 1.
    public const int SubPhysBase = 0;
    public const int SubDumpLevel = 8;
    public const int SubSplit = 12;
    public const int SubStartPfn = 16;
    public const int SubEndPfn = 24;
    public const int SubOffsetVmcoreinfo = 32;
    public const int SubSizeVmcoreinfo = 40;
    public const int SubOffsetNote = 48;
    public const int SubSizeNote = 56;
    public const int SubOffsetEraseinfo = 64;
    public const int SubSizeEraseinfo = 72;
    public const int SubStartPfn64 = 80;
    public const int SubEndPfn64 = 88;
    public const int SubMaxMapnr64 = 96;
    public const int SubHeaderSize = 104;

    public const int PageDescSize = 24;
    public const int DescOffset = 0;
    public const int DescSize = 8;
    public const int DescFlags = 12;
    public const int DescPageFlags = 16;

    // page_desc.flags besides the codec bits of DumpFormats.
    public const uint FlagIncomplete = 0x8;
}
