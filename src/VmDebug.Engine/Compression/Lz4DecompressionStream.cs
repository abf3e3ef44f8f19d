using K4os.Compression.LZ4.Streams;

namespace VmDebug.Engine.Compression;

/// <summary>
/// LZ4 frames (systemd-coredump's .lz4 cores) through K4os's managed decoder, whose complaints about a corrupt or cut
/// frame (InvalidDataException, EndOfStreamException, InvalidOperationException) become the same typed error the
/// zstd and xz decoders give.
/// </summary>
internal sealed class Lz4DecompressionStream(Stream input, string source) : Stream
{
    private readonly Stream _decoder = LZ4Stream.Decode(input, leaveOpen: false);

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _decoder.Position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        try
        {
            return _decoder.Read(buffer);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or InvalidOperationException or ArgumentException)
        {
            throw new CompressionException("CompressedCoreCorrupt", ErrorKind.InvalidData, $"{source}: cannot decompress this LZ4 file: {e.Message}", source);
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _decoder.Dispose();
        }
        base.Dispose(disposing);
    }
}
