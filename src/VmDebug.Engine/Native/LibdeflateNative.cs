using System.Runtime.InteropServices;

namespace VmDebug.Engine.Native;

internal static partial class LibdeflateNative
{
    public const string Library = "libdeflate.so.0";

    [LibraryImport(Library)]
    public static partial nint libdeflate_alloc_compressor(int compressionLevel);

    [LibraryImport(Library)]
    public static unsafe partial nuint libdeflate_zlib_compress(nint compressor, byte* input, nuint inputLength, byte* output, nuint outputAvailable);

    [LibraryImport(Library)]
    public static partial nuint libdeflate_zlib_compress_bound(nint compressor, nuint inputLength);

    [LibraryImport(Library)]
    public static partial void libdeflate_free_compressor(nint compressor);
}
