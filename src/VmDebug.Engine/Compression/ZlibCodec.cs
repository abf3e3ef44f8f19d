using VmDebug.Engine.Native;

namespace VmDebug.Engine.Compression;

/// <summary>
/// RFC 1950 zlib streams. Pages are compressed by libdeflate at level 2, which writes about 3% less than libz at
/// level 1 (what makedumpfile -c and QEMU kdump-zlib use: compress2 with Z_BEST_SPEED) in about 0.6 of its CPU time
/// (bench/zlib-levels.sh); libdeflate's level 1 is faster still but writes more than libz. Pages are decompressed
/// by libz, so reading a zlib dump needs only libz. Each thread keeps one compressor.
/// </summary>
internal sealed class ZlibCodec : PageCodec
{
    /// <summary>libdeflate's level for kdump pages: the fastest whose files are no larger than makedumpfile -c's.</summary>
    public const int CompressionLevel = 2;

    private static readonly ZlibCodec Instance = new();
    private static readonly NativeCodecLibrary Compressor = NativeCodecLibrary.Libdeflate;

    [ThreadStatic] private static DeflateCompressor? _compressor;

    private ZlibCodec()
    {
    }

    public static ZlibCodec Load()
    {
        NativeCodecLibrary.Zlib.EnsureLoadable();
        return Instance;
    }

    public override PageCompression Kind => PageCompression.Zlib;

    public override void EnsureCanCompress() => Compressor.EnsureLoadable();

    public override int MaxCompressedLength(int inputLength) =>
        (int)Math.Max(ZlibNative.compressBound((nuint)inputLength), LibdeflateNative.libdeflate_zlib_compress_bound(ThreadCompressor().Handle, (nuint)inputLength));

    public override unsafe int Compress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var compressor = ThreadCompressor();
        if ((nuint)destination.Length < LibdeflateNative.libdeflate_zlib_compress_bound(compressor.Handle, (nuint)source.Length))
        {
            throw new ArgumentException("destination is smaller than MaxCompressedLength", nameof(destination));
        }
        nuint length;
        fixed (byte* src = source)
        fixed (byte* dst = destination)
        {
            length = LibdeflateNative.libdeflate_zlib_compress(compressor.Handle, src, (nuint)source.Length, dst, (nuint)destination.Length);
        }
        // With room for the bound libdeflate cannot run out of space, so 0 means it failed.
        return length != 0 ? (int)length : throw Failed("libdeflate_zlib_compress", 0, LibdeflateNative.Library);
    }

    public override unsafe int Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var length = (nuint)destination.Length;
        int rc;
        fixed (byte* src = source)
        fixed (byte* dst = destination)
        {
            rc = ZlibNative.uncompress(dst, &length, src, (nuint)source.Length);
        }
        return rc == 0 ? (int)length : -1;
    }

    private static DeflateCompressor ThreadCompressor()
    {
        if (_compressor is null)
        {
            Compressor.EnsureLoadable();
            _compressor = new DeflateCompressor();
        }
        return _compressor;
    }

    private static CompressionException Failed(string call, int rc, string library) =>
        new("CompressionFailed", ErrorKind.InvalidResult, $"{call} in {library} failed with {rc}.", library);

    /// <summary>A libdeflate compressor (native memory), freed when its thread's reference goes.</summary>
    private sealed class DeflateCompressor
    {
        public DeflateCompressor()
        {
            Handle = LibdeflateNative.libdeflate_alloc_compressor(CompressionLevel);
            if (Handle == 0)
            {
                throw Failed("libdeflate_alloc_compressor", 0, LibdeflateNative.Library);
            }
        }

        public nint Handle { get; }

        ~DeflateCompressor() => LibdeflateNative.libdeflate_free_compressor(Handle);
    }
}
