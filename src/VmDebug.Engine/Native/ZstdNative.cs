using System.Runtime.InteropServices;

namespace VmDebug.Engine.Native;

internal static partial class ZstdNative
{
    public const string Library = "libzstd.so.1";

    [LibraryImport(Library)]
    public static unsafe partial nuint ZSTD_compress(byte* dst, nuint dstCapacity, byte* src, nuint srcSize, int level);

    [LibraryImport(Library)]
    public static unsafe partial nuint ZSTD_decompress(byte* dst, nuint dstCapacity, byte* src, nuint srcSize);

    [LibraryImport(Library)]
    public static partial uint ZSTD_isError(nuint code);

    [LibraryImport(Library)]
    public static partial nuint ZSTD_compressBound(nuint srcSize);

    [LibraryImport(Library)]
    public static partial nint ZSTD_createDStream();

    [LibraryImport(Library)]
    public static partial nuint ZSTD_freeDStream(nint stream);

    [LibraryImport(Library)]
    public static partial nuint ZSTD_initDStream(nint stream);

    [LibraryImport(Library)]
    public static unsafe partial nuint ZSTD_decompressStream(nint stream, ZstdBuffer* output, ZstdBuffer* input);

    [LibraryImport(Library)]
    public static partial nint ZSTD_getErrorName(nuint code);

    // The buffer-less streaming API (zstd.h, "static linking only" but exported by libzstd.so.1): it decodes into a
    // ring buffer the caller owns, so decompressed data is not copied out of libzstd's window.
    [LibraryImport(Library)]
    public static partial nint ZSTD_createDCtx();

    [LibraryImport(Library)]
    public static partial nuint ZSTD_freeDCtx(nint context);

    [LibraryImport(Library)]
    public static partial nuint ZSTD_decompressBegin(nint context);

    [LibraryImport(Library)]
    public static partial nuint ZSTD_nextSrcSizeToDecompress(nint context);

    [LibraryImport(Library)]
    public static unsafe partial nuint ZSTD_decompressContinue(nint context, byte* dst, nuint dstCapacity, byte* src, nuint srcSize);

    /// <summary>Fills a ZSTD_frameHeader (see <see cref="ZstdFrameHeader"/>); 0 when done, more than 0: the bytes it needs.</summary>
    [LibraryImport(Library)]
    public static unsafe partial nuint ZSTD_getFrameHeader(ZstdFrameHeader* header, byte* src, nuint srcSize);

    [LibraryImport(Library)]
    public static partial nuint ZSTD_decodingBufferSize_min(ulong windowSize, ulong frameContentSize);
}
