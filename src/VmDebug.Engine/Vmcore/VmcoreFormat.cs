namespace VmDebug.Engine.Vmcore;

/// <summary>The container a dump file uses.</summary>
public enum VmcoreFormat
{
    /// <summary>ELF64 core with PT_LOAD per physical range (/proc/vmcore, QEMU "elf", makedumpfile -E).</summary>
    Elf,

    /// <summary>Seekable compressed kdump ("KDUMP   "), as makedumpfile -c/-l/-p/-z or QEMU kdump-raw-*.</summary>
    Kdump,

    /// <summary>makedumpfile flattened stream holding a kdump file (QEMU kdump-zlib/lzo/snappy, makedumpfile -F).</summary>
    FlattenedKdump,

    /// <summary>makedumpfile flattened stream holding an ELF vmcore (makedumpfile -E -F).</summary>
    FlattenedElf,
}
