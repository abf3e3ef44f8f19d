using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using static VmDebug.Engine.Native.LibcFiles;

namespace VmDebug.Engine.Files;

/// <summary>
/// The libc file calls .NET has no managed API for and that file safety needs: O_TMPFILE, O_NOFOLLOW, linkat,
/// renameat2(RENAME_NOREPLACE), flock on a raw descriptor, lstat, directory fsync (x86_64 Linux).
/// </summary>
internal static class UnixFile
{
    public const int ORdOnly = 0, ORdWr = 2, OCreat = 0x40, OExcl = 0x80, ONoCtty = 0x100, ONonBlock = 0x800,
        ODirectory = 0x10000, ONoFollow = 0x20000, OCloexec = 0x80000, OTmpFile = 0x400000 | ODirectory;
    public const int EExist = 17, ENoEnt = 2, ELoop = 40, EAcces = 13, EPerm = 1, EWouldBlock = 11, EIsDir = 21,
        EOpNotSupp = 95, EInval = 22;
    private const int AtFdCwd = -100, AtSymlinkFollow = 0x400, AtSymlinkNoFollow = 0x100;
    private const uint RenameNoReplaceFlag = 1;
    private const int LockExclusive = 2, LockNonBlocking = 4;

    public static int LastError => Marshal.GetLastPInvokeError();

    public static string ErrorText(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    /// <summary>open(2); returns an invalid handle and <paramref name="errno"/> on failure.</summary>
    public static SafeFileHandle Open(string path, int flags, uint mode, out int errno)
    {
        var fd = open(path, flags | OCloexec, mode);
        errno = fd < 0 ? LastError : 0;
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    public static UnixFileStatus? LStat(string path) => StatAt(path, AtSymlinkNoFollow);

    public static UnixFileStatus? Stat(string path) => StatAt(path, 0);

    public static UnixFileStatus FStat(SafeFileHandle handle)
    {
        Span<byte> buffer = stackalloc byte[256];
        if (statx((int)handle.DangerousGetHandle(), "", 0x1000 /* AT_EMPTY_PATH */, 0x7ff, ref MemoryMarshal.GetReference(buffer)) != 0)
        {
            throw new IOException($"fstat failed: {ErrorText(LastError)}");
        }
        return FromStatx(buffer);
    }

    private static UnixFileStatus? StatAt(string path, int flags)
    {
        Span<byte> buffer = stackalloc byte[256];
        return statx(AtFdCwd, path, flags, 0x7ff, ref MemoryMarshal.GetReference(buffer)) == 0 ? FromStatx(buffer) : null;
    }

    // struct statx: uid at 20, gid at 24, mode (u16) at 28, ino at 32, size at 40, dev major/minor at 136/140.
    private static UnixFileStatus FromStatx(ReadOnlySpan<byte> b) => new(
        ((ulong)BitConverter.ToUInt32(b[136..]) << 32) | BitConverter.ToUInt32(b[140..]),
        BitConverter.ToUInt64(b[32..]),
        BitConverter.ToUInt16(b[28..]),
        BitConverter.ToUInt32(b[20..]),
        BitConverter.ToUInt32(b[24..]),
        BitConverter.ToInt64(b[40..]));

    /// <summary>Gives an O_TMPFILE file a name; fails with EEXIST rather than replace anything.</summary>
    public static int LinkDescriptor(SafeFileHandle handle, string newPath) =>
        linkat(AtFdCwd, $"/proc/self/fd/{handle.DangerousGetHandle()}", AtFdCwd, newPath, AtSymlinkFollow) == 0 ? 0 : LastError;

    /// <summary>
    /// A pipe (both ends close-on-exec) for a writer in another process: the write end's
    /// <see cref="PathForOtherProcess"/>. Returns 0 or the errno.
    /// </summary>
    public static int CreatePipe(out SafeFileHandle read, out SafeFileHandle write)
    {
        Span<int> fds = stackalloc int[2];
        if (Native.LibcPipes.pipe2(ref MemoryMarshal.GetReference(fds), OCloexec) != 0)
        {
            read = write = new SafeFileHandle();
            return LastError;
        }
        read = new SafeFileHandle(fds[0], ownsHandle: true);
        write = new SafeFileHandle(fds[1], ownsHandle: true);
        return 0;
    }

    /// <summary>
    /// The path another process (as this user or root) opens to reach this process's descriptor, for writers that take
    /// only a path (pmemsave, libvirt's core dump): nothing is created in any file system, so nothing outlives us.
    /// </summary>
    public static string PathForOtherProcess(SafeFileHandle handle) => $"/proc/{Environment.ProcessId}/fd/{handle.DangerousGetHandle()}";

    public static int RenameNoReplace(string oldPath, string newPath) =>
        renameat2(AtFdCwd, oldPath, AtFdCwd, newPath, RenameNoReplaceFlag) == 0 ? 0 : LastError;

    public static int Rename(string oldPath, string newPath) => renameat2(AtFdCwd, oldPath, AtFdCwd, newPath, 0) == 0 ? 0 : LastError;

    public static int Unlink(string path) => unlink(path) == 0 ? 0 : LastError;

    public static int MakeDirectory(string path, uint mode) => mkdir(path, mode) == 0 ? 0 : LastError;

    /// <summary>flock(LOCK_EX|LOCK_NB): 0, or EWOULDBLOCK when another holds it.</summary>
    public static int TryLockExclusive(SafeFileHandle handle) =>
        flock((int)handle.DangerousGetHandle(), LockExclusive | LockNonBlocking) == 0 ? 0 : LastError;

    public static void Truncate(SafeFileHandle handle, long length)
    {
        if (ftruncate((int)handle.DangerousGetHandle(), length) != 0)
        {
            throw new IOException($"ftruncate failed: {ErrorText(LastError)}");
        }
    }

    /// <summary>Makes a new name in <paramref name="directory"/> durable (the file's own fsync does not cover its directory entry).</summary>
    public static void SyncDirectory(string directory)
    {
        using var handle = Open(directory, ORdOnly | ODirectory, 0, out var errno);
        if (errno == 0 && fsync((int)handle.DangerousGetHandle()) != 0)
        {
            throw new IOException($"fsync of the directory '{directory}' failed: {ErrorText(LastError)}");
        }
    }

    public static uint EffectiveUid => geteuid();

    /// <summary>The account name of <paramref name="uid"/>, or the number when it has none.</summary>
    public static string UserName(uint uid)
    {
        var entry = getpwuid(uid);
        return entry == 0 ? uid.ToString(System.Globalization.CultureInfo.InvariantCulture) : Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(entry)) ?? uid.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
