using System.IO.Compression;

namespace VmDebug.Engine.Compression;

/// <summary>RFC 1950 zlib streams, as QEMU and makedumpfile produce with compress2(Z_BEST_SPEED).</summary>
internal sealed class ZlibCodec : PageCodec
{
    public static readonly ZlibCodec Instance = new();

    [ThreadStatic] private static MemoryStream? t_output;
    [ThreadStatic] private static byte[]? t_input;

    public override PageCompression Kind => PageCompression.Zlib;

    // zlib's compressBound: n + n/4096 + n/16384 + n/33554432 + 13, rounded up generously.
    public override int MaxCompressedLength(int inputLength) => inputLength + (inputLength >> 10) + 64;

    public override int Compress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var output = t_output ??= new MemoryStream();
        output.SetLength(0);
        using (var zlib = new ZLibStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            zlib.Write(source);
        }
        var written = (int)output.Length;
        if (written > destination.Length)
        {
            throw new ArgumentException("destination is smaller than MaxCompressedLength", nameof(destination));
        }
        output.GetBuffer().AsSpan(0, written).CopyTo(destination);
        return written;
    }

    public override int Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var input = t_input is { } buffer && buffer.Length >= source.Length ? buffer : t_input = new byte[Math.Max(source.Length, 8192)];
        source.CopyTo(input);
        try
        {
            using var zlib = new ZLibStream(new MemoryStream(input, 0, source.Length, writable: false), CompressionMode.Decompress);
            var total = 0;
            while (total < destination.Length)
            {
                var n = zlib.Read(destination[total..]);
                if (n == 0)
                {
                    return total;
                }
                total += n;
            }
            // More output than the destination holds means the page is not what the descriptor claims.
            Span<byte> probe = stackalloc byte[1];
            return zlib.Read(probe) == 0 ? total : -1;
        }
        catch (InvalidDataException)
        {
            return -1;
        }
    }
}
