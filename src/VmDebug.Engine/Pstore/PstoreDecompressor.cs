using System.Buffers.Binary;
using System.IO.Compression;
using K4os.Compression.LZ4;
using VmDebug.Engine.Compression;

namespace VmDebug.Engine.Pstore;

/// <summary>
/// Inflates a compressed ('C') dmesg record. The record does not say its codec (pstore.compress= chose it), so
/// codecs are tried in turn: zstd and zlib by their magic, then raw deflate (Debian's kernels: the crypto API's
/// "deflate" is RFC 1951 without a wrapper), LZ4 and LZO blocks; a result counts only when it starts with the
/// "Reason#N PartN" line pstore writes before the log (fs/pstore/platform.c), so no codec's garbage passes.
/// </summary>
internal static class PstoreDecompressor
{
    /// <summary>Bound on a decompressed record: pstore compresses at most a few times its record size.</summary>
    public const int MaxOutput = 16 << 20;

    public static (byte[] Text, string Codec)? Decompress(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(data) == 0xFD2FB528 && Try(data, Zstd) is { } zstd)
        {
            return (zstd, "zstd");
        }
        if (data.Length >= 2 && (data[0] & 0x0f) == 8 && ((data[0] << 8) | data[1]) % 31 == 0 && Try(data, Zlib) is { } zlib)
        {
            return (zlib, "zlib");
        }
        if (Try(data, Deflate) is { } deflate)
        {
            return (deflate, "deflate");
        }
        if (Try(data, Lz4) is { } lz4)
        {
            return (lz4, "lz4");
        }
        if (PageCodec.IsAvailable(PageCompression.Lzo) && Try(data, Lzo) is { } lzo)
        {
            return (lzo, "lzo");
        }
        return null;
    }

    private delegate byte[]? Codec(ReadOnlySpan<byte> data);

    private static byte[]? Try(ReadOnlySpan<byte> data, Codec codec)
    {
        try
        {
            return codec(data) is { } text && PstoreDmesgHeader.ParsePayloadHeader(text) is not null ? text : null;
        }
        catch (Exception e) when (e is InvalidDataException or CompressionException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    private static byte[]? Deflate(ReadOnlySpan<byte> data) => Inflate(data, s => new DeflateStream(s, CompressionMode.Decompress));

    private static byte[]? Zlib(ReadOnlySpan<byte> data) => Inflate(data, s => new ZLibStream(s, CompressionMode.Decompress));

    private static byte[]? Inflate(ReadOnlySpan<byte> data, Func<Stream, Stream> open)
    {
        using var input = new MemoryStream(data.ToArray(), writable: false);
        using var inflater = open(input);
        using var output = new MemoryStream();
        var buffer = new byte[64 << 10];
        int n;
        while ((n = inflater.Read(buffer)) > 0)
        {
            if (output.Length + n > MaxOutput)
            {
                return null;
            }
            output.Write(buffer, 0, n);
        }
        return output.ToArray();
    }

    private static byte[]? Zstd(ReadOnlySpan<byte> data) => Block(data, (s, d) => PageCodec.Get(PageCompression.Zstd).Decompress(s, d));

    private static byte[]? Lz4(ReadOnlySpan<byte> data) => Block(data, (s, d) => LZ4Codec.Decode(s, d));

    private static byte[]? Lzo(ReadOnlySpan<byte> data) => Block(data, (s, d) => PageCodec.Get(PageCompression.Lzo).Decompress(s, d));

    private delegate int BlockCodec(ReadOnlySpan<byte> source, Span<byte> destination);

    /// <summary>Block codecs need the output size up front: grow the buffer up to the bound until it fits.</summary>
    private static byte[]? Block(ReadOnlySpan<byte> data, BlockCodec codec)
    {
        for (var capacity = Math.Max(64 << 10, data.Length * 4); ; capacity *= 2)
        {
            capacity = Math.Min(capacity, MaxOutput);
            var output = new byte[capacity];
            var n = codec(data, output);
            if (n >= 0 && n < capacity)
            {
                return output[..n];
            }
            if (capacity == MaxOutput)
            {
                return null;
            }
        }
    }
}
