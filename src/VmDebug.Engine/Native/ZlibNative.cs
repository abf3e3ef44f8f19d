using System.Runtime.InteropServices;

namespace VmDebug.Engine.Native;

internal static partial class ZlibNative
{
    public const string Library = "libz.so.1";
    public const int BestSpeed = 1;
    public const int Finish = 4;
    public const int StreamEnd = 1;
    public const int Deflated = 8;
    public const int WindowBits = 15;
    public const int MemLevel = 8;
    public const int DefaultStrategy = 0;

    /// <summary>sizeof(z_stream) on LP64, which deflateInit2_ checks.</summary>
    public const int StreamSize = 112;
    public const int NextIn = 0, AvailIn = 8, NextOut = 24, AvailOut = 32, TotalOut = 40;

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static unsafe partial int deflateInit2_(void* stream, int level, int method, int windowBits, int memLevel, int strategy,
        string version, int streamSize);

    [LibraryImport(Library)]
    public static unsafe partial int deflateReset(void* stream);

    [LibraryImport(Library)]
    public static unsafe partial int deflate(void* stream, int flush);

    [LibraryImport(Library)]
    public static unsafe partial int deflateEnd(void* stream);

    [LibraryImport(Library)]
    public static partial nuint compressBound(nuint sourceLength);

    [LibraryImport(Library)]
    public static unsafe partial int uncompress(byte* dest, nuint* destLength, byte* source, nuint sourceLength);

    [LibraryImport(Library)]
    public static partial nint zlibVersion();
}
