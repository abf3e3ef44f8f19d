using VmDebug.Engine.Compression;
using VmDebug.Engine.Libvirt;

namespace VmDebug.Engine.Dump;

/// <summary>
/// One row per dump format: its QMP name, the libvirt format that asks QEMU for it, the page codec VmDebug writes
/// it with, and that codec's kdump flags. Every mapping between these names is read from this table.
/// </summary>
/// <param name="Libvirt">null when libvirt has no such format.</param>
/// <param name="Compression">null for formats VmDebug writes without page compression (ELF) or cannot write (win-dmp).</param>
/// <param name="PageFlag">page_desc.flags of a page compressed this way (DUMP_DH_COMPRESSED_* of makedumpfile diskdump_mod.h).</param>
/// <param name="HeaderStatus">disk_dump_header.status of a file whose pages are compressed this way.</param>
public sealed record DumpFormatTraits(DumpFormat Format, string QmpName, LibvirtDumpFormat? Libvirt, PageCompression? Compression,
    uint PageFlag, int HeaderStatus);
