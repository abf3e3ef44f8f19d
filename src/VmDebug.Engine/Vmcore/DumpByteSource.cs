using Microsoft.Win32.SafeHandles;

namespace VmDebug.Engine.Vmcore;

/// <summary>Positional, thread-safe reads of a dump's bytes: the file itself, or a flattened stream's reassembled view.</summary>
internal abstract class DumpByteSource : IDisposable
{
    protected DumpByteSource(string path) => Path = path;

    public string Path { get; }

    public abstract long Length { get; }

    /// <summary>Bytes the file really holds (a flattened stream's records), which bounds what may be allocated for it.</summary>
    public virtual long StoredBytes => Length;

    /// <summary>The runs of [from, to) that hold stored data; elsewhere the bytes read as zeros.</summary>
    public virtual IEnumerable<(long Start, long End)> DataRuns(long from, long to)
    {
        if (from < to)
        {
            yield return (from, to);
        }
    }

    /// <summary>Reads up to buffer.Length bytes at <paramref name="offset"/>; fewer only at the end.</summary>
    public abstract int Read(long offset, Span<byte> buffer);

    /// <summary>Reads exactly buffer.Length bytes or throws a <see cref="VmcoreFormatException"/> naming <paramref name="what"/>.</summary>
    public void ReadExactly(long offset, Span<byte> buffer, string what)
    {
        if (offset < 0 || offset > Length - buffer.Length)
        {
            throw new VmcoreFormatException(Path, offset, $"{what} ({buffer.Length} bytes) lies beyond the end of the file ({Length} bytes)");
        }
        var done = 0;
        while (done < buffer.Length)
        {
            var n = Read(offset + done, buffer[done..]);
            if (n <= 0)
            {
                throw new VmcoreFormatException(Path, offset + done, $"{what} is truncated");
            }
            done += n;
        }
    }

    public byte[] ReadBytes(long offset, int count, string what)
    {
        var bytes = new byte[count];
        ReadExactly(offset, bytes, what);
        return bytes;
    }

    public abstract void Dispose();
}

internal sealed class FileByteSource : DumpByteSource
{
    private readonly SafeFileHandle _handle;

    public FileByteSource(string path)
        : base(path)
    {
        _handle = Files.ReadOnlyFile.Open(path, "Vmcore", "dump file");
        Length = RandomAccess.GetLength(_handle);
    }

    public override long Length { get; }

    public override int Read(long offset, Span<byte> buffer) => Files.ReadOnlyFile.ReadAt(_handle, Length, offset, buffer);

    public override void Dispose() => _handle.Dispose();
}
