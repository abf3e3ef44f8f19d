using VmDebug.Engine.Files;
using VmDebug.Engine.Native;

namespace VmDebug.Engine.VirtioTrace;

/// <summary>
/// The FIFO pairs QEMU's pipe chardev opens (qemu chardev/char-pipe.c: PATH.in and PATH.out, both O_RDWR). They live
/// in a directory of the caller's that no one else may write to, so nobody can swap a FIFO for a file or a link.
/// </summary>
public static class VirtioTraceFifos
{
    public const uint FifoMode = 0x180; // 0600
    /// <summary>0711: others (libvirt's QEMU user, which libvirt chowns the FIFOs to) may pass through but not list it.</summary>
    public const uint DirectoryMode = 0x1c9;

    /// <summary>The FIFO paths that do not exist yet; throws when the directory or an existing entry is unsafe.</summary>
    public static IReadOnlyList<string> Missing(string directory, IReadOnlyList<VirtioTraceChannel> channels)
    {
        var missing = new List<string>();
        if (CheckDirectory(directory) is false)
        {
            return channels.SelectMany(c => new[] { c.HostInput, c.HostOutput }).ToList();
        }

        foreach (var path in channels.SelectMany(c => new[] { c.HostInput, c.HostOutput }))
        {
            var status = UnixFile.LStat(path);
            if (status is null) { missing.Add(path); continue; }
            if (status.Value.Type != UnixFileStatus.Fifo || status.Value.Uid != UnixFile.EffectiveUid)
            {
                throw new VmDebugException("VirtioTraceFifoConflict", ErrorKind.ResourceExists,
                    $"{path} exists and is a {status.Value.TypeName} owned by uid {status.Value.Uid}, not a FIFO of yours: remove it or choose another directory.", path);
            }
        }
        return missing;
    }

    /// <summary>Creates the directory (0711) if needed and the missing FIFOs (0600); returns those it made.</summary>
    public static IReadOnlyList<string> Create(string directory, IReadOnlyList<VirtioTraceChannel> channels)
    {
        var missing = Missing(directory, channels);
        if (CheckDirectory(directory) is false)
        {
            var mkdirError = UnixFile.MakeDirectory(directory, DirectoryMode);
            if (mkdirError != 0 && mkdirError != UnixFile.EExist)
            {
                throw new VmDebugException("VirtioTraceDirectoryFailed", ErrorKind.WriteError,
                    $"Cannot create the FIFO directory {directory}: {UnixFile.ErrorText(mkdirError)}.", directory);
            }

            CheckDirectory(directory);
        }
        var created = new List<string>();
        foreach (var path in missing)
        {
            var error = FifoNative.MakeFifo(path, FifoMode);
            if (error == UnixFile.EExist) { Missing(directory, channels); continue; } // appeared meanwhile: checked again
            if (error != 0)
            {
                throw new VmDebugException("VirtioTraceFifoFailed", ErrorKind.WriteError, $"Cannot create the FIFO {path}: {UnixFile.ErrorText(error)}.", path);
            }
            // mkfifo applies the umask: set 0600 exactly, through a descriptor that cannot have followed a link.
            using var handle = UnixFile.Open(path, UnixFile.ORdOnly | UnixFile.ONonBlock | UnixFile.ONoFollow, 0, out var openError);
            if (openError != 0 || FifoNative.ChangeMode(handle, FifoMode) != 0)
            {
                throw new VmDebugException("VirtioTraceFifoFailed", ErrorKind.WriteError, $"Cannot set mode 0600 on the FIFO {path}.", path);
            }

            created.Add(path);
        }
        return created;
    }

    /// <summary>True when the directory is safe to use, false when it does not exist; throws when it is unsafe.</summary>
    public static bool CheckDirectory(string directory)
    {
        var status = UnixFile.LStat(directory);
        if (status is null)
        {
            return false;
        }

        if (!status.Value.IsDirectory)
        {
            throw new VmDebugException("VirtioTraceDirectoryInvalid", ErrorKind.InvalidArgument,
                $"{directory} is a {status.Value.TypeName}, not a directory (links are not followed).", directory);
        }

        if (status.Value.Uid != UnixFile.EffectiveUid)
        {
            throw new VmDebugException("VirtioTraceDirectoryNotOwned", ErrorKind.PermissionDenied,
                $"{directory} belongs to uid {status.Value.Uid}, not to you (uid {UnixFile.EffectiveUid}): someone else could replace its FIFOs.", directory);
        }

        if ((status.Value.Permissions & 0x12) != 0) // group or other write
        {
            throw new VmDebugException("VirtioTraceDirectoryWritable", ErrorKind.PermissionDenied,
                $"{directory} is writable by its group or by others (mode {Convert.ToString(status.Value.Permissions, 8)}): someone else could replace its FIFOs.", directory);
        }

        return true;
    }
}
