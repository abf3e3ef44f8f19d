using System.Runtime.InteropServices;
using VmDebug.Engine.Native;

namespace VmDebug.Engine.Compression;

/// <summary>
/// A codec's shared library, probed once with NativeLibrary.TryLoad so a missing library becomes a typed error
/// naming the Debian package instead of a DllNotFoundException at the first page.
/// </summary>
internal sealed class NativeCodecLibrary
{
    public static readonly NativeCodecLibrary Zlib = new("zlib", ZlibNative.Library, "zlib1g");
    public static readonly NativeCodecLibrary Lzo = new("LZO", LzoNative.Library, "liblzo2-2");
    public static readonly NativeCodecLibrary Zstd = new("zstd", ZstdNative.Library, "libzstd1");
    public static readonly NativeCodecLibrary Lzma = new("xz", LzmaNative.Library, "liblzma5");
    public static readonly NativeCodecLibrary Libdeflate = new("zlib", LibdeflateNative.Library, "libdeflate0");

    private readonly Lazy<bool> _loadable;

    private NativeCodecLibrary(string codecName, string soname, string aptPackage)
    {
        CodecName = codecName;
        Soname = soname;
        AptPackage = aptPackage;
        _loadable = new Lazy<bool>(() => NativeLibrary.TryLoad(soname, out _));
    }

    public string CodecName { get; }
    public string Soname { get; }
    public string AptPackage { get; }
    public bool IsLoadable => _loadable.Value;

    public void EnsureLoadable()
    {
        if (!IsLoadable)
        {
            throw new CompressionException(
                "CompressionLibraryMissing",
                ErrorKind.NotInstalled,
                $"{CodecName} (de)compression needs {Soname}, which could not be loaded; install the '{AptPackage}' package.",
                Soname);
        }
    }
}
