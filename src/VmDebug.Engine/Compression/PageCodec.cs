namespace VmDebug.Engine.Compression;

/// <summary>A stateless, thread-safe page compressor/decompressor.</summary>
public abstract class PageCodec
{
    public abstract PageCompression Kind { get; }

    /// <summary>Throws <see cref="CompressionException"/> when this codec can read pages here but not write them.</summary>
    public virtual void EnsureCanCompress()
    {
    }

    /// <summary>Worst-case compressed size of <paramref name="inputLength"/> bytes.</summary>
    public abstract int MaxCompressedLength(int inputLength);

    /// <summary>Compresses into <paramref name="destination"/> (at least MaxCompressedLength bytes); returns the length.</summary>
    public abstract int Compress(ReadOnlySpan<byte> source, Span<byte> destination);

    /// <summary>Decompresses; returns the number of bytes produced, or -1 when the input is corrupt or does not fit.</summary>
    public abstract int Decompress(ReadOnlySpan<byte> source, Span<byte> destination);

    /// <summary>The codec for <paramref name="kind"/>; throws <see cref="CompressionException"/> when its library is absent.</summary>
    public static PageCodec Get(PageCompression kind) => kind switch
    {
        PageCompression.Zlib => ZlibCodec.Load(),
        PageCompression.Lzo => LzoCodec.Load(),
        PageCompression.Snappy => SnappyCodec.Instance,
        PageCompression.Zstd => ZstdCodec.Load(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "no codec for uncompressed pages"),
    };

    /// <summary>True when the codec can be used on this machine (its native library loads).</summary>
    public static bool IsAvailable(PageCompression kind) => kind switch
    {
        PageCompression.None or PageCompression.Snappy => true,
        PageCompression.Zlib => NativeCodecLibrary.Zlib.IsLoadable,
        PageCompression.Lzo => NativeCodecLibrary.Lzo.IsLoadable,
        PageCompression.Zstd => NativeCodecLibrary.Zstd.IsLoadable,
        _ => false,
    };
}
