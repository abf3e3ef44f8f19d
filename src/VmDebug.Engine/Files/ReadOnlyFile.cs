using Microsoft.Win32.SafeHandles;

namespace VmDebug.Engine.Files;

/// <summary>
/// Opens an input file for positional reads, turning "missing" and "denied" into typed errors that name it.
/// Only regular files are read: the open is non-blocking (a FIFO planted where a dump or core is expected would
/// otherwise block forever) and the opened descriptor is checked, so a name swapped meanwhile cannot slip through.
/// </summary>
internal static class ReadOnlyFile
{
    /// <param name="errorPrefix">Error id stem: "Vmcore" gives VmcoreNotFound / VmcoreAccessDenied / VmcoreNotRegularFile.</param>
    /// <param name="what">How the message names the file, e.g. "dump file".</param>
    public static SafeFileHandle Open(string path, string errorPrefix, string what)
    {
        var handle = UnixFile.Open(path, UnixFile.ORdOnly | UnixFile.ONonBlock | UnixFile.ONoCtty, 0, out var errno);
        if (errno != 0)
        {
            handle.Dispose();
            throw errno switch
            {
                UnixFile.ENoEnt or 20 /* ENOTDIR */ => new VmDebugException(errorPrefix + "NotFound", ErrorKind.ObjectNotFound, $"{path}: the {what} does not exist.", path),
                UnixFile.EAcces or UnixFile.EPerm => new VmDebugException(errorPrefix + "AccessDenied", ErrorKind.PermissionDenied, $"{path}: permission denied reading the {what}.", path),
                _ => new VmDebugException(errorPrefix + "NotReadable", ErrorKind.ReadError, $"{path}: cannot open the {what}: {UnixFile.ErrorText(errno)}.", path),
            };
        }
        var status = UnixFile.FStat(handle);
        if (!status.IsRegular)
        {
            handle.Dispose();
            throw new VmDebugException(errorPrefix + "NotRegularFile", ErrorKind.InvalidArgument,
                $"{path}: the {what} is a {status.TypeName}, not a regular file.", path);
        }
        return handle;
    }

    /// <summary>The opened regular file, or null for anything else (missing, unreadable, FIFO, device, directory).</summary>
    public static SafeFileHandle? TryOpenRegular(string path)
    {
        try
        {
            return Open(path, "File", "file");
        }
        catch (VmDebugException)
        {
            return null;
        }
    }

    /// <summary>Reads from <paramref name="offset"/> until the buffer is full or the file (of <paramref name="length"/> bytes) ends; returns the bytes read.</summary>
    public static int ReadAt(SafeFileHandle handle, long length, long offset, Span<byte> buffer)
    {
        var total = 0;
        while (total < buffer.Length && offset + total < length)
        {
            var n = RandomAccess.Read(handle, buffer[total..], offset + total);
            if (n == 0)
            {
                break;
            }
            total += n;
        }
        return total;
    }
}
