namespace VmDebug.Engine.Compression;

/// <summary>
/// Raw snappy blocks (no framing), as makedumpfile -p and QEMU kdump-snappy write, by the managed Snappier: as fast as
/// native libsnappy on vmcore pages (bench/snappy-codecs.sh: 0.97x its time), with no native library to install.
/// </summary>
internal sealed class SnappyCodec : PageCodec
{
    public static readonly SnappyCodec Instance = new();

    private SnappyCodec()
    {
    }

    public override PageCompression Kind => PageCompression.Snappy;

    public override int MaxCompressedLength(int inputLength) => Snappier.Snappy.GetMaxCompressedLength(inputLength);

    public override int Compress(ReadOnlySpan<byte> source, Span<byte> destination) => Snappier.Snappy.Compress(source, destination);

    // -1 for a corrupt or oversized block, as the other codecs report it; pages from a dump are untrusted.
    public override int Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        try
        {
            return Snappier.Snappy.GetUncompressedLength(source) <= destination.Length ? Snappier.Snappy.Decompress(source, destination) : -1;
        }
        catch (InvalidDataException)
        {
            return -1;
        }
        catch (ArgumentException)
        {
            return -1;
        }
    }
}
