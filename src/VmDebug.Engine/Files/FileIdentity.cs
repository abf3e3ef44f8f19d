using System.Runtime.InteropServices;
using VmDebug.Engine.Native;

namespace VmDebug.Engine.Files;

/// <summary>A file's device and inode numbers (stat(2)), which .NET does not expose.</summary>
internal static class FileIdentity
{
    public static (ulong Device, ulong Inode) Of(string path)
    {
        // struct stat on x86_64 glibc: st_dev at 0, st_ino at 8; 144 bytes in all.
        Span<byte> stat = stackalloc byte[144];
        if (LibcFiles.stat(path, ref MemoryMarshal.GetReference(stat)) != 0)
        {
            throw new IOException($"stat '{path}' failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return (BitConverter.ToUInt64(stat[..8]), BitConverter.ToUInt64(stat[8..16]));
    }
}
