using System.Globalization;
using VmDebug.Engine.Native;

namespace VmDebug.Engine.CrashConfiguration;

/// <summary>
/// Replaces a config file the crash-safe way: new content in a temp file beside it (same owner and mode),
/// fsync, keep the old file as a timestamped backup, rename over, fsync the directory.
/// </summary>
public static class AtomicFileReplacer
{
    /// <summary>Writes <paramref name="content"/> to <paramref name="path"/>; returns the backup's path.</summary>
    /// <param name="expectedCurrent">When given, the write is refused if the file changed since it was read.</param>
    public static string Replace(string path, byte[] content, byte[]? expectedCurrent, DateTime now, CancellationToken cancellationToken)
    {
        // Edit the file a symlink points at, so the link stays a link.
        var target = new FileInfo(path).LinkTarget is not null
            ? File.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName ?? path
            : Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(target)!;
        var ownership = HostNative.TryGetOwnership(target)
            ?? throw new VmDebugException("ConfigFileNotFound", ErrorKind.ObjectNotFound, $"The file {target} does not exist.", target);

        if (expectedCurrent is not null && !File.ReadAllBytes(target).AsSpan().SequenceEqual(expectedCurrent))
        {
            throw new VmDebugException("ConfigFileChangedConcurrently", ErrorKind.ResourceBusy,
                $"{target} changed after it was read; nothing was written. Run the command again.", target);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var temp = Path.Combine(directory, $".{Path.GetFileName(target)}.vmdebug-{Environment.ProcessId}-{Guid.NewGuid():N}.tmp");
        try
        {
            // Owner and mode are set before any content is written, so no one else can read it in between.
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                HostNative.SetOwnerAndMode(stream.SafeFileHandle, ownership.Uid, ownership.Gid, ownership.Mode, target);
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }
            var backup = MakeBackup(target, now);
            cancellationToken.ThrowIfCancellationRequested();
            File.Move(temp, target, overwrite: true);
            HostNative.FsyncDirectory(directory);
            return backup;
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>A hard link keeps the old inode (bytes, owner, mode, times) once the rename replaces the name.</summary>
    private static string MakeBackup(string target, DateTime now)
    {
        var stamp = now.ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture);
        for (var n = 0; ; n++)
        {
            var backup = $"{target}.vmdebug-{stamp}{(n == 0 ? "" : "-" + n.ToString(CultureInfo.InvariantCulture))}.bak";
            if (File.Exists(backup) || Directory.Exists(backup))
            {
                continue;
            }

            if (HostNative.TryLink(target, backup, out var errno))
            {
                return backup;
            }

            const int EExist = 17;
            if (errno == EExist)
            {
                continue;
            }

            File.Copy(target, backup);
            var o = HostNative.TryGetOwnership(target);
            if (o is { } own)
            {
                using var handle = File.OpenHandle(backup, FileMode.Open, FileAccess.ReadWrite);
                HostNative.SetOwnerAndMode(handle, own.Uid, own.Gid, own.Mode, backup);
            }
            return backup;
        }
    }
}
