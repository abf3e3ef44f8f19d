using System.Runtime.InteropServices;

namespace VmDebug.Engine.Native;

internal static partial class LzmaNative
{
    public const string Library = "liblzma.so.5";

    public const int Ok = 0, StreamEnd = 1;
    public const int Run = 0, Finish = 3;
    public const uint Concatenated = 0x08;

    [LibraryImport(Library)]
    public static partial int lzma_stream_decoder(nint stream, ulong memoryLimit, uint flags);

    [LibraryImport(Library)]
    public static partial int lzma_code(nint stream, int action);

    [LibraryImport(Library)]
    public static partial void lzma_end(nint stream);
}
