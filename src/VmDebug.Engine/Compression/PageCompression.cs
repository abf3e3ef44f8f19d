namespace VmDebug.Engine.Compression;

/// <summary>How dump pages are compressed (kdump page_desc flags: zlib 0x1, lzo 0x2, snappy 0x4, zstd 0x20).</summary>
public enum PageCompression
{
    None,
    Zlib,
    Lzo,
    Snappy,
    Zstd,
}
