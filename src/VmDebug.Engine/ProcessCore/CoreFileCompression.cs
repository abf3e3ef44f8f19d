namespace VmDebug;

/// <summary>How a core file is compressed, told by its magic bytes (systemd-coredump writes .zst, .lz4 or .xz).</summary>
public enum CoreFileCompression
{
    None,
    Zstd,
    Lz4,
    Xz,
}
