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
}
