using System.Globalization;

namespace VmDebug.Engine.Dump;

/// <summary>
/// One VmDebug dump per guest at a time. QEMU itself refuses a second dump, but it also serves one QMP client at a
/// time, so a second dumper would only see a greeting that never comes. This advisory lock (flock, which .NET
/// takes for FileShare.None) makes the second dumper fail at once and name the process that holds the guest.
/// </summary>
public sealed class GuestDumpLock : IDisposable
{
    private readonly FileStream _lock;

    private GuestDumpLock(FileStream lockFile) => _lock = lockFile;

    /// <param name="guestKeyPath">A QMP socket path (identified by device and inode), or any other stable key for the guest.</param>
    public static GuestDumpLock Acquire(string guestKeyPath)
    {
        var identity = Identity(guestKeyPath);
        var directory = Environment.IsPrivilegedProcess
            ? "/run/vmdebug"
            : Path.Combine(Path.GetTempPath(), $"vmdebug-{Environment.UserName}");
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var lockPath = Path.Combine(directory, $"dump-{identity}.lock");
        try
        {
            var stream = new FileStream(lockPath, new FileStreamOptions
            {
                Mode = FileMode.OpenOrCreate,
                Access = FileAccess.ReadWrite,
                Share = FileShare.None,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            // The holder's PID goes in a file of its own: .NET's flock emulation keeps others from reading a locked file.
            File.WriteAllText(HolderPath(lockPath), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            return new GuestDumpLock(stream);
        }
        catch (IOException e)
        {
            var holder = ReadHolder(lockPath);
            throw new VmDebugException("DumpAlreadyRunning", ErrorKind.ResourceBusy,
                $"A VmDebug dump of the guest behind '{guestKeyPath}' is already running{holder}. QEMU dumps one at a time; wait for it to finish.",
                guestKeyPath, e);
        }
    }

    public void Dispose() => _lock.Dispose();

    /// <summary>Device and inode identify a socket whatever path it was reached by; other keys are hashed.</summary>
    private static string Identity(string key)
    {
        if (File.Exists(key))
        {
            try
            {
                var (device, inode) = Interop.FileIdentity.Of(Path.GetFullPath(key));
                return $"{device:x}-{inode:x}";
            }
            catch (IOException)
            {
                // Gone meanwhile: the QMP client reports that clearly; the hashed key serves until then.
            }
        }

        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)))[..16];
    }

    private static string HolderPath(string lockPath) => Path.ChangeExtension(lockPath, ".pid");

    private static string ReadHolder(string lockPath)
    {
        try
        {
            var pid = File.ReadAllText(HolderPath(lockPath)).Trim();
            return int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out _) ? $" (PID {pid})" : "";
        }
        catch (IOException)
        {
            return "";
        }
    }
}
