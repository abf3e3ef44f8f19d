using VmDebug.Engine.Native;

namespace VmDebug.Engine.Compression;

/// <summary>zstd frames, as makedumpfile -z writes (crash reads them; Debian's makedumpfile does not).</summary>
internal sealed class ZstdCodec : PageCodec
{
    private const int Level = 1;
    private static readonly ZstdCodec Instance = new();

    private ZstdCodec()
    {
    }

    public static ZstdCodec Load()
    {
        NativeCodecLibrary.Zstd.EnsureLoadable();
        return Instance;
    }

    public override PageCompression Kind => PageCompression.Zstd;

    public override int MaxCompressedLength(int inputLength) => (int)ZstdNative.ZSTD_compressBound((nuint)inputLength);

    public override unsafe int Compress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        nuint result;
        fixed (byte* src = source)
        fixed (byte* dst = destination)
        {
            result = ZstdNative.ZSTD_compress(dst, (nuint)destination.Length, src, (nuint)source.Length, Level);
        }
        if (ZstdNative.ZSTD_isError(result) != 0)
        {
            throw new CompressionException("CompressionFailed", ErrorKind.InvalidResult, "ZSTD_compress failed.", ZstdNative.Library);
        }
        return (int)result;
    }

    public override unsafe int Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        nuint result;
        fixed (byte* src = source)
        fixed (byte* dst = destination)
        {
            result = ZstdNative.ZSTD_decompress(dst, (nuint)destination.Length, src, (nuint)source.Length);
        }
        return ZstdNative.ZSTD_isError(result) != 0 ? -1 : (int)result;
    }
}
