using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using static VmDebug.Engine.Native.LibcFiles;

namespace VmDebug.Engine.ProcessCore;

/// <summary>A byte range of a file that holds data (not a hole).</summary>
internal readonly record struct FileExtent(long Start, long End);

/// <summary>
/// Read-only access to a process core's bytes: positional reads plus the data extents (ranges that may hold
/// non-zero bytes), so holes are never read. A plain file or a compressed one (<see cref="CompressedCoreFile"/>).
/// </summary>
internal abstract class SparseFile : IDisposable
{
    protected SparseFile(string path)
    {
        Path = path;
    }

    public string Path { get; }

    /// <summary>Length of the (decompressed) core.</summary>
    public abstract long Length { get; }

    /// <summary>Reads up to buffer.Length bytes; fewer only at the end of the file.</summary>
    public abstract int Read(long offset, Span<byte> buffer);

    /// <summary>The extents overlapping [start, end) that may hold data, clipped to it; the rest reads as zero.</summary>
    public abstract List<FileExtent> DataExtents(long start, long end, CancellationToken cancellationToken);

    /// <summary>
    /// The bytes the core holds without another pass over it: for a plain file all of it, for a compressed one what
    /// its first pass kept (headers, notes, QEMU's own small mappings, candidate pages).
    /// </summary>
    public virtual SparseFile Captured => this;

    /// <summary>Opens <paramref name="path"/>, decompressing zstd, lz4 and xz cores on the fly (one pass now, one when read).</summary>
    public static SparseFile Open(string path, CancellationToken cancellationToken = default)
    {
        var plain = new PlainSparseFile(path);
        try
        {
            Span<byte> head = stackalloc byte[8];
            var n = plain.Read(0, head);
            if (CompressedCoreFile.FormatOf(head[..n]) is { } format)
            {
                plain.Dispose();
                return CompressedCoreFile.Open(path, format, cancellationToken);
            }
            return plain;
        }
        catch
        {
            plain.Dispose();
            throw;
        }
    }

    /// <summary>The compression of a whole-file compressed core, or null for a plain (ELF) file.</summary>
    public static VmDebug.CoreFileCompression? CompressionOf(string path)
    {
        using var plain = new PlainSparseFile(path);
        Span<byte> head = stackalloc byte[8];
        return CompressedCoreFile.FormatOf(head[..plain.Read(0, head)]);
    }

    public abstract void Dispose();
}

/// <summary>
/// A plain, possibly sparse core file: positional reads plus lseek(SEEK_DATA/SEEK_HOLE) extents, so holes (the
/// untouched pages a kernel core writer skipped) are never read. Opened for sequential scanning: extraction reads
/// the RAM mapping front to back, so the kernel's readahead pays.
/// </summary>
internal sealed class PlainSparseFile : SparseFile
{
    private const int SeekData = 3, SeekHole = 4;
    private const int Enxio = 6, Einval = 22;

    private readonly SafeFileHandle _handle;

    public PlainSparseFile(string path) : base(path)
    {
        _handle = Files.ReadOnlyFile.Open(path, "ProcessCore", "core file");
        Length = RandomAccess.GetLength(_handle);
    }

    public override long Length { get; }

    public override int Read(long offset, Span<byte> buffer) => Files.ReadOnlyFile.ReadAt(_handle, Length, offset, buffer);

    /// <summary>A file system without SEEK_DATA support reports the whole range as data, which only costs speed.</summary>
    public override List<FileExtent> DataExtents(long start, long end, CancellationToken cancellationToken)
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

    public override void Dispose() => _handle.Dispose();
}
