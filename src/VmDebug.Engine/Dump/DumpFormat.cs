namespace VmDebug;

/// <summary>Dump file formats, named as the cmdlet takes them; <see cref="VmDebug.Engine.Dump.DumpFormats"/> maps them.</summary>
public enum DumpFormat
{
    /// <summary>ELF vmcore: every page, uncompressed (the size of guest RAM).</summary>
    Elf,
    /// <summary>kdump-compressed, zlib pages, zero pages shared.</summary>
    KdumpZlib,
    /// <summary>kdump-compressed, LZO pages.</summary>
    KdumpLzo,
    /// <summary>kdump-compressed, snappy pages.</summary>
    KdumpSnappy,
    /// <summary>kdump-compressed, zstd pages. Written by VmDebug only (Convert-Vmcore); QEMU has no zstd dumps.</summary>
    KdumpZstd,
    /// <summary>Windows crash dump (Windows guests with the virtio-win fwcfg driver only).</summary>
    WinDmp,
}
