using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace VmDebug.Engine.ProcessCore;

/// <summary>A byte range of a file that holds data (not a hole).</summary>
internal readonly record struct FileExtent(long Start, long End);

/// <summary>
/// Read-only access to a possibly sparse file: positional reads plus the file's data extents from
/// lseek(SEEK_DATA/SEEK_HOLE), so holes (the untouched pages a kernel core writer skipped) are never read.
/// Opened for sequential scanning: extraction reads the RAM mapping front to back, so the kernel's readahead pays.
/// </summary>
internal sealed partial class SparseFile : IDisposable
{
    private const int SeekData = 3, SeekHole = 4;
    private const int Enxio = 6, Einval = 22;

    private readonly SafeFileHandle _handle;

    public SparseFile(string path)
    {
        Path = path;
        _handle = Interop.ReadOnlyFile.Open(path, "ProcessCore", "core file");
        Length = RandomAccess.GetLength(_handle);
    }

    public string Path { get; }

    public long Length { get; }

    /// <summary>Reads up to buffer.Length bytes; fewer only at the end of the file.</summary>
    public int Read(long offset, Span<byte> buffer)
    {
        var total = 0;
        while (total < buffer.Length && offset + total < Length)
        {
            var n = RandomAccess.Read(_handle, buffer[total..], offset + total);
            if (n == 0)
            {
                break;
            }
            total += n;
        }
        return total;
    }

    /// <summary>
    /// The data extents overlapping [start, end), clipped to it. A file system without SEEK_DATA support
    /// reports the whole range as data, which only costs speed.
    /// </summary>
    public List<FileExtent> DataExtents(long start, long end, CancellationToken cancellationToken)
    {
        var extents = new List<FileExtent>();
        end = Math.Min(end, Length);
        var fd = (int)_handle.DangerousGetHandle();
        var position = start;
        var refAdded = false;
        try
        {
            _handle.DangerousAddRef(ref refAdded);
            while (position < end)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var data = lseek(fd, position, SeekData);
                if (data < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Enxio)
                    {
                        break; // no data after position
                    }
                    if (errno == Einval)
                    {
                        extents.Add(new FileExtent(position, end)); // SEEK_DATA unsupported
                        break;
                    }
                    throw new IOException($"{Path}: lseek(SEEK_DATA) failed with errno {errno}");
                }
                if (data >= end)
                {
                    break;
                }
                var hole = lseek(fd, data, SeekHole);
                if (hole < 0)
                {
                    hole = end;
                }
                extents.Add(new FileExtent(data, Math.Min(hole, end)));
                position = hole;
            }
        }
        finally
        {
            if (refAdded)
            {
                _handle.DangerousRelease();
            }
        }
        return extents;
    }

    public void Dispose() => _handle.Dispose();

    [LibraryImport("libc", SetLastError = true)]
    private static partial long lseek(int fd, long offset, int whence);
}
