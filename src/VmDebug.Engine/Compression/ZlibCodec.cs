using System.Runtime.InteropServices;
using VmDebug.Engine.Native;

namespace VmDebug.Engine.Compression;

/// <summary>
/// RFC 1950 zlib streams from the system's libz at level 1, as makedumpfile -c and QEMU kdump-zlib write them
/// (compress2 with Z_BEST_SPEED), so files are page for page as small as theirs. Each thread keeps one deflate
/// state and resets it per page instead of allocating one per call.
/// </summary>
internal sealed class ZlibCodec : PageCodec
{
    private static readonly ZlibCodec Instance = new();

    [ThreadStatic] private static DeflateState? _state;

    private ZlibCodec()
    {
    }

    public static ZlibCodec Load()
    {
        NativeCodecLibrary.Zlib.EnsureLoadable();
        return Instance;
    }

    public override PageCompression Kind => PageCompression.Zlib;

    public override int MaxCompressedLength(int inputLength) => (int)ZlibNative.compressBound((nuint)inputLength);

    public override unsafe int Compress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var state = _state ??= new DeflateState();
        var stream = state.Stream;
        var rc = ZlibNative.deflateReset(stream);
        if (rc != 0)
        {
            throw Failed("deflateReset", rc);
        }
        fixed (byte* src = source)
        fixed (byte* dst = destination)
        {
            *(byte**)(stream + ZlibNative.NextIn) = src;
            *(uint*)(stream + ZlibNative.AvailIn) = (uint)source.Length;
            *(byte**)(stream + ZlibNative.NextOut) = dst;
            *(uint*)(stream + ZlibNative.AvailOut) = (uint)destination.Length;
            rc = ZlibNative.deflate(stream, ZlibNative.Finish);
            *(byte**)(stream + ZlibNative.NextIn) = null;
            *(byte**)(stream + ZlibNative.NextOut) = null;
        }
        if (rc != ZlibNative.StreamEnd)
        {
            throw rc == 0 ? new ArgumentException("destination is smaller than MaxCompressedLength", nameof(destination)) : Failed("deflate", rc);
        }
        return (int)*(ulong*)(stream + ZlibNative.TotalOut);
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

    private static CompressionException Failed(string call, int rc) =>
        new("CompressionFailed", ErrorKind.InvalidResult, $"{call} in {ZlibNative.Library} failed with {rc}.", ZlibNative.Library);

    /// <summary>A z_stream in native memory (zlib keeps a pointer back to it), freed when its thread's reference goes.</summary>
    private sealed unsafe class DeflateState
    {
        public DeflateState()
        {
            Stream = (byte*)NativeMemory.AllocZeroed(ZlibNative.StreamSize);
            var version = Marshal.PtrToStringUTF8(ZlibNative.zlibVersion()) ?? "1.2";
            var rc = ZlibNative.deflateInit2_(Stream, ZlibNative.BestSpeed, ZlibNative.Deflated, ZlibNative.WindowBits, ZlibNative.MemLevel,
                ZlibNative.DefaultStrategy, version, ZlibNative.StreamSize);
            if (rc != 0)
            {
                NativeMemory.Free(Stream);
                throw Failed("deflateInit2_", rc);
            }
        }

        public byte* Stream { get; }

        ~DeflateState()
        {
            ZlibNative.deflateEnd(Stream);
            NativeMemory.Free(Stream);
        }
    }
}
