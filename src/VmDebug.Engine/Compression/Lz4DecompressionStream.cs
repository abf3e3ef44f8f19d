using K4os.Compression.LZ4.Streams;

namespace VmDebug.Engine.Compression;

/// <summary>
/// LZ4 frames (systemd-coredump's .lz4 cores) through K4os's managed decoder, whose complaints about a corrupt or cut
/// frame (InvalidDataException, EndOfStreamException, InvalidOperationException) become the same typed error the
/// zstd and xz decoders give.
/// </summary>
internal sealed class Lz4DecompressionStream(Stream input, string source) : ForwardOnlyReadStream
{
    private readonly Stream _decoder = LZ4Stream.Decode(input, leaveOpen: false);

    protected override long BytesRead => _decoder.Position;

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

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _decoder.Dispose();
        }
        base.Dispose(disposing);
    }
}
