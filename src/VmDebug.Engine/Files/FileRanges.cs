using Microsoft.Win32.SafeHandles;
using static VmDebug.Engine.Native.LibcFiles;

namespace VmDebug.Engine.Files;

/// <summary>fallocate(2) range operations the BCL does not offer.</summary>
internal static class FileRanges
{
    private const int CollapseRange = 0x08; // FALLOC_FL_COLLAPSE_RANGE

    /// <summary>
    /// Removes <paramref name="length"/> bytes at <paramref name="offset"/>, moving the rest of the file down without
    /// copying. False where the file system cannot (tmpfs, unaligned ranges); the file is then unchanged.
    /// </summary>
    public static bool TryCollapse(SafeFileHandle file, long offset, long length) => fallocate(file, CollapseRange, offset, length) == 0;
}
