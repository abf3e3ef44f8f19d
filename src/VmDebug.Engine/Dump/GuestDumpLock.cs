using System.Globalization;
using System.Text;
using Microsoft.Win32.SafeHandles;
using VmDebug.Engine.Files;

namespace VmDebug.Engine.Dump;

/// <summary>
/// One VmDebug dump per guest at a time. QEMU itself refuses a second dump, but it also serves one QMP client at a
/// time, so a second dumper would only see a greeting that never comes. This advisory lock (flock on a file in a
/// directory only the caller can write) makes the second dumper fail at once and name the process that holds the
/// guest. The lock file holds the holder's PID, written through the locked descriptor, and is removed on release.
/// </summary>
public sealed class GuestDumpLock : IDisposable
{
    private const uint PrivateDirectoryMode = 0x1c0; // 0700
    private const int MaxAttempts = 8;
    private readonly SafeFileHandle _handle;
    private readonly string _path;

    private GuestDumpLock(SafeFileHandle handle, string path)
    {
        _handle = handle;
        _path = path;
    }

    /// <param name="guestKeyPath">A QMP socket path (identified by device and inode), or any other stable key for the guest.</param>
    public static GuestDumpLock Acquire(string guestKeyPath)
    {
        var lockPath = Path.Combine(LockDirectory(), $"dump-{Identity(guestKeyPath)}.lock");
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            // O_NOFOLLOW: even in a private directory a lock file is never a way to write somewhere else.
            var handle = UnixFile.Open(lockPath, UnixFile.ORdWr | UnixFile.OCreat | UnixFile.ONoFollow | UnixFile.ONonBlock, 0x180, out var errno);
            if (errno != 0)
            {
                handle.Dispose();
                throw new VmDebugException("DumpLockFailed", ErrorKind.PermissionDenied,
                    $"Cannot create the dump lock '{lockPath}': {UnixFile.ErrorText(errno)}.", lockPath);
            }
            var locked = UnixFile.TryLockExclusive(handle);
            if (locked == UnixFile.EWouldBlock)
            {
                var holder = ReadHolder(handle);
                handle.Dispose();
                throw new VmDebugException("DumpAlreadyRunning", ErrorKind.ResourceBusy,
                    $"A VmDebug dump of the guest behind '{guestKeyPath}' is already running{holder}. QEMU dumps one at a time; wait for it to finish.",
                    guestKeyPath);
            }
            // A holder that released meanwhile removed the name: the inode locked must still be the one named.
            var opened = UnixFile.FStat(handle);
            if (locked != 0 || UnixFile.LStat(lockPath) is not { } named || named.Inode != opened.Inode || named.Device != opened.Device)
            {
                handle.Dispose();
                continue;
            }
            UnixFile.Truncate(handle, 0);
            RandomAccess.Write(handle, Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture)), 0);
            return new GuestDumpLock(handle, lockPath);
        }
        throw new VmDebugException("DumpLockFailed", ErrorKind.ResourceBusy, $"Cannot take the dump lock '{lockPath}': it kept being replaced.", lockPath);
    }

    /// <summary>Removes the lock file while still holding it, so lock files do not accumulate.</summary>
    public void Dispose()
    {
        if (!_handle.IsClosed)
        {
            UnixFile.Unlink(_path);
            _handle.Dispose();
        }
    }

    /// <summary>
    /// Root: /run/vmdebug. Others: $XDG_RUNTIME_DIR/vmdebug (private by the XDG spec, as libvirt's session daemon
    /// uses it), else /tmp/vmdebug-USER. Whatever exists there is used only when lstat shows a real directory
    /// owned by the caller that nobody else can write; anything else may have been planted by another user.
    /// </summary>
    internal static string LockDirectory()
    {
        var uid = UnixFile.EffectiveUid;
        string directory;
        if (uid == 0)
        {
            directory = "/run/vmdebug";
        }
        else if (Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } runtime && Path.IsPathFullyQualified(runtime)
            && UnixFile.LStat(runtime) is { IsDirectory: true } status && status.Uid == uid && (status.Permissions & 0x3f) == 0)
        {
            directory = Path.Combine(runtime, "vmdebug");
        }
        else
        {
            directory = Path.Combine("/tmp", $"vmdebug-{Environment.UserName}");
        }

        var made = UnixFile.MakeDirectory(directory, PrivateDirectoryMode);
        if (made != 0 && made != UnixFile.EExist)
        {
            throw new VmDebugException("DumpLockFailed", ErrorKind.PermissionDenied,
                $"Cannot create the dump lock directory '{directory}': {UnixFile.ErrorText(made)}.", directory);
        }
        var found = UnixFile.LStat(directory);
        var othersCanWrite = found is { } f && (f.Permissions & 0x12) != 0; // group or other write
        var privateEnough = uid == 0 ? !othersCanWrite : found?.Permissions == PrivateDirectoryMode;
        if (found is not { IsDirectory: true } dir || dir.Uid != uid || !privateEnough)
        {
            var what = found is { } s
                ? $"it is a {s.TypeName} owned by {UnixFile.UserName(s.Uid)} (uid {s.Uid}) with mode 0{Convert.ToString(s.Permissions, 8)}"
                : "it vanished";
            throw new VmDebugException("DumpLockDirectoryUnsafe", ErrorKind.PermissionDenied,
                $"Refusing to use the dump lock directory '{directory}': {what}, not a directory of {UnixFile.UserName(uid)} with mode 0700. "
                + "Another user may have planted it; remove it (or set XDG_RUNTIME_DIR to your private runtime directory).", directory);
        }
        return directory;
    }

    /// <summary>Device and inode identify a socket whatever path it was reached by; other keys are hashed.</summary>
    private static string Identity(string key)
    {
        if (File.Exists(key))
        {
            try
            {
                var (device, inode) = FileIdentity.Of(Path.GetFullPath(key));
                return $"{device:x}-{inode:x}";
            }
            catch (IOException)
            {
                // Gone meanwhile: the QMP client reports that clearly; the hashed key serves until then.
            }
        }

        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
    }

    private static string ReadHolder(SafeFileHandle handle)
    {
        Span<byte> text = stackalloc byte[16];
        var n = RandomAccess.Read(handle, text, 0);
        return int.TryParse(text[..n], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? $" (PID {pid})" : "";
    }
}
