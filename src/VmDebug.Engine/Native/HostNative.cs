using System.Runtime.InteropServices;

namespace VmDebug.Engine.Native;

/// <summary>libc calls .NET has no managed API for: ownership, fsync of directories, statvfs, O_DIRECT, accounts.</summary>
internal static unsafe partial class HostNative
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxBasicStats = 0x7ff;
    private const int ORdOnly = 0, OWrOnly = 1, OCreat = 0x40, OExcl = 0x80, ODirectory = 0x10000, OCloexec = 0x80000;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fchown(int fd, uint owner, uint group);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fchmod(int fd, uint mode);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fsync(int fd);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags, uint mode);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint write(int fd, void* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int link(string oldPath, string newPath);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statvfs(string path, byte* buffer);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint getpwnam(string name);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint getpwuid(uint uid);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint getgrnam(string name);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int getgrouplist(string user, uint group, uint* groups, int* ngroups);

    [LibraryImport("libc")]
    private static partial long sysconf(int name);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);

    /// <summary>Sends a signal; returns the errno (0 on success).</summary>
    /// <summary>
    /// Opens a file read-only (close-on-exec) and returns the descriptor, or -1. Used to hold a process's mount
    /// namespace (/proc/PID/ns/mnt) alive after the process exits.
    /// </summary>
    public static int OpenReadOnly(string path) => open(path, ORdOnly | OCloexec, 0);

    public static void Close(int fd) => close(fd);

    public static int SendSignal(int pid, int signal) => kill(pid, signal) == 0 ? 0 : Marshal.GetLastPInvokeError();

    private static readonly object AccountLock = new();

    public static string ErrnoText(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    /// <summary>statx's layout is the same on every architecture, unlike struct stat.</summary>
    public static FileOwnership? TryGetOwnership(string path, bool followSymlinks = true)
    {
        var buf = stackalloc byte[256];
        if (statx(AtFdCwd, path, followSymlinks ? 0 : AtSymlinkNoFollow, StatxBasicStats, buf) != 0)
        {
            return null;
        }

        uint uid = *(uint*)(buf + 20), gid = *(uint*)(buf + 24);
        var mode = *(ushort*)(buf + 28);
        return new FileOwnership(uid, gid, (UnixFileMode)(mode & 0xfff), (mode & 0xf000) == 0x4000);
    }

    public static void SetOwnerAndMode(SafeHandle file, uint uid, uint gid, UnixFileMode mode, string pathForErrors)
    {
        var fd = (int)file.DangerousGetHandle();
        if (fchown(fd, uid, gid) != 0 || fchmod(fd, (uint)mode) != 0)
        {
            throw IoError("FileOwnershipNotSet", $"Cannot give {pathForErrors} its original owner and mode", pathForErrors);
        }
    }

    public static void FsyncDirectory(string directory)
    {
        var fd = open(directory, ORdOnly | ODirectory | OCloexec, 0);
        if (fd < 0)
        {
            throw IoError("DirectorySyncFailed", $"Cannot open directory {directory} to sync it", directory);
        }

        try
        {
            if (fsync(fd) != 0)
            {
                throw IoError("DirectorySyncFailed", $"Cannot sync directory {directory}", directory);
            }
        }
        finally { close(fd); }
    }

    /// <summary>Hard link; false with errno when the file system refuses (then the caller copies).</summary>
    public static bool TryLink(string existing, string newPath, out int errno)
    {
        errno = link(existing, newPath) == 0 ? 0 : Marshal.GetLastPInvokeError();
        return errno == 0;
    }

    /// <summary>Bytes available to unprivileged users (f_bavail * f_frsize); null if statvfs fails.</summary>
    public static long? TryGetAvailableBytes(string path)
    {
        // struct statvfs on 64-bit Linux: f_bsize, f_frsize, f_blocks, f_bfree, f_bavail, ... all 8 bytes.
        if (IntPtr.Size != 8)
        {
            return null;
        }

        var buf = stackalloc byte[128];
        if (statvfs(path, buf) != 0)
        {
            return null;
        }

        ulong frsize = *(ulong*)(buf + 8), bavail = *(ulong*)(buf + 32);
        return (long)Math.Min(frsize * bavail, long.MaxValue);
    }

    /// <summary>
    /// Creates a scratch file in <paramref name="directory"/> with O_DIRECT and writes one aligned block, the
    /// way a bypass-cache dump writes. Returns null on success, else the reason.
    /// </summary>
    public static string? ProbeDirectIo(string directory)
    {
        // O_DIRECT differs by architecture (asm-generic 040000; arm/arm64 0200000; powerpc 0400000).
        var oDirect = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.Arm64 or Architecture.Arm => 0x10000,
            Architecture.Ppc64le => 0x20000,
            _ => 0x4000,
        };
        var probe = Path.Combine(directory, $".vmdebug-odirect-{Environment.ProcessId}-{Guid.NewGuid():N}");
        var fd = open(probe, OWrOnly | OCreat | OExcl | OCloexec | oDirect, 0x180);
        if (fd < 0)
        {
            return $"open with O_DIRECT failed: {ErrnoText(Marshal.GetLastPInvokeError())}";
        }

        const int block = 4096;
        var aligned = NativeMemory.AlignedAlloc(block, block);
        try
        {
            NativeMemory.Clear(aligned, block);
            return write(fd, aligned, block) == block ? null : $"an aligned O_DIRECT write failed: {ErrnoText(Marshal.GetLastPInvokeError())}";
        }
        finally
        {
            NativeMemory.AlignedFree(aligned);
            close(fd);
            File.Delete(probe);
        }
    }

    /// <summary>
    /// Resolves a qemu.conf user the way libvirt does: "+N" is a numeric uid, otherwise a name, otherwise a number.
    /// </summary>
    public static HostAccount? TryResolveUser(string spec)
    {
        lock (AccountLock)
        {
            nint pw;
            if (spec.StartsWith('+') && uint.TryParse(spec.AsSpan(1), out var forced))
            {
                pw = getpwuid(forced);
            }
            else
            {
                pw = getpwnam(spec);
                if (pw == 0 && uint.TryParse(spec, out var numeric))
                {
                    pw = getpwuid(numeric);
                }
            }
            if (pw == 0)
            {
                return null;
            }
            // struct passwd (64-bit): char* pw_name, char* pw_passwd, uid_t pw_uid, gid_t pw_gid, ...
            var name = Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(pw, 0)) ?? spec;
            var uid = (uint)Marshal.ReadInt32(pw, 2 * IntPtr.Size);
            var gid = (uint)Marshal.ReadInt32(pw, 2 * IntPtr.Size + 4);
            return new HostAccount(name, uid, gid, GroupList(name, gid));
        }
    }

    /// <summary>Resolves a qemu.conf group ("+N", name, or number) to a gid.</summary>
    public static uint? TryResolveGroup(string spec)
    {
        if (spec.StartsWith('+') && uint.TryParse(spec.AsSpan(1), out var forced))
        {
            return forced;
        }

        lock (AccountLock)
        {
            var gr = getgrnam(spec);
            // struct group (64-bit): char* gr_name, char* gr_passwd, gid_t gr_gid, ...
            if (gr != 0)
            {
                return (uint)Marshal.ReadInt32(gr, 2 * IntPtr.Size);
            }
        }
        return uint.TryParse(spec, out var numeric) ? numeric : null;
    }

    private static uint[] GroupList(string user, uint gid)
    {
        var count = 64;
        for (var attempt = 0; attempt < 4; attempt++)
        {
            var groups = new uint[count];
            var n = count;
            fixed (uint* p = groups)
            {
                if (getgrouplist(user, gid, p, &n) >= 0)
                {
                    return groups[..n];
                }
            }
            count = Math.Max(n, count * 2);
        }
        return [gid];
    }

    /// <summary>Kernel clock ticks per second, the unit of /proc/PID/stat start times.</summary>
    public static long ClockTicksPerSecond()
    {
        const int ScClkTck = 2;
        var t = sysconf(ScClkTck);
        return t > 0 ? t : 100;
    }

    private static VmDebugException IoError(string id, string what, string target)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new VmDebugException(id, ErrorKind.WriteError, $"{what}: {ErrnoText(errno)}.", target);
    }
}
