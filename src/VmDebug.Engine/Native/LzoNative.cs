using System.Runtime.InteropServices;

namespace VmDebug.Engine.Native;

internal static partial class LzoNative
{
    public const string Library = "liblzo2.so.2";

    [LibraryImport(Library)]
    public static partial uint lzo_version();

    [LibraryImport(Library)]
    public static partial int __lzo_init_v2(uint version, int sizeShort, int sizeInt, int sizeLong, int sizeUint32, int sizeUint,
        int sizeDict, int sizeCharPtr, int sizeVoidPtr, int sizeCallback);

    [LibraryImport(Library)]
    public static unsafe partial int lzo1x_1_compress(byte* src, nuint srcLength, byte* dst, nuint* dstLength, void* workMemory);

    [LibraryImport(Library)]
    public static unsafe partial int lzo1x_decompress_safe(byte* src, nuint srcLength, byte* dst, nuint* dstLength, void* workMemory);
}
