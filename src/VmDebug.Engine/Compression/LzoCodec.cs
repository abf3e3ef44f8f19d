using VmDebug.Engine.Native;

namespace VmDebug.Engine.Compression;

/// <summary>LZO1X-1, the variant makedumpfile -l and QEMU kdump-lzo write.</summary>
internal sealed class LzoCodec : PageCodec
{
    // LZO1X_1_MEM_COMPRESS = 16384 * sizeof(lzo_bytep) on LP64.
    private const int WorkMemoryBytes = 16384 * 8;
    // sizeof(lzo_callback_t) on LP64: three function pointers, a pointer and two lzo_xint.
    private const int CallbackStructBytes = 6 * 8;

    private static readonly Lazy<LzoCodec> Instance = new(Create);

    [ThreadStatic] private static byte[]? _workMemory;

    private LzoCodec()
    {
    }

    public static LzoCodec Load()
    {
        NativeCodecLibrary.Lzo.EnsureLoadable();
        return Instance.Value;
    }

    private static LzoCodec Create()
    {
        var rc = LzoNative.__lzo_init_v2(LzoNative.lzo_version(), sizeof(short), sizeof(int), sizeof(long), sizeof(uint), 8, 8, 8, 8,
            CallbackStructBytes);
        if (rc != 0)
        {
            throw new CompressionException("CompressionLibraryUnusable", ErrorKind.ResourceUnavailable,
                $"lzo_init in {LzoNative.Library} failed with {rc}.", LzoNative.Library);
        }
        return new LzoCodec();
    }

    public override PageCompression Kind => PageCompression.Lzo;

    // LZO's documented worst case: n + n/16 + 64 + 3.
    public override int MaxCompressedLength(int inputLength) => inputLength + inputLength / 16 + 64 + 3;

    public override unsafe int Compress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (destination.Length < MaxCompressedLength(source.Length))
        {
            throw new ArgumentException("destination is smaller than MaxCompressedLength", nameof(destination));
        }
        var work = _workMemory ??= new byte[WorkMemoryBytes];
        var length = (nuint)destination.Length;
        int rc;
        fixed (byte* src = source)
        fixed (byte* dst = destination)
        fixed (byte* wrk = work)
        {
            rc = LzoNative.lzo1x_1_compress(src, (nuint)source.Length, dst, &length, wrk);
        }
        if (rc != 0)
        {
            throw new CompressionException("CompressionFailed", ErrorKind.InvalidResult, $"lzo1x_1_compress failed with {rc}.", LzoNative.Library);
        }
        return (int)length;
    }

    public override unsafe int Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var length = (nuint)destination.Length;
        int rc;
        fixed (byte* src = source)
        fixed (byte* dst = destination)
        {
            rc = LzoNative.lzo1x_decompress_safe(src, (nuint)source.Length, dst, &length, null);
        }
        return rc == 0 ? (int)length : -1;
    }
}
