using System.Runtime.InteropServices;
using VmDebug.Engine.Native;

namespace VmDebug.Engine.Compression;

/// <summary>zstd frames (one or several, as zstd and systemd-coredump write them) through libzstd's streaming API.</summary>
internal sealed class ZstdDecompressionStream : NativeDecompressionStream
{
    private nint _stream;
    private bool _atFrameEnd;

    public ZstdDecompressionStream(Stream input, string source) : base(input, source)
    {
        NativeCodecLibrary.Zstd.EnsureLoadable();
        _stream = ZstdNative.ZSTD_createDStream();
        if (_stream == 0 || ZstdNative.ZSTD_isError(ZstdNative.ZSTD_initDStream(_stream)) != 0)
        {
            throw new CompressionException("CompressionFailed", ErrorKind.ResourceUnavailable, "libzstd could not create a decompression stream.", source);
        }
    }

    protected override string FormatName => "zstd";

    protected override unsafe bool Decode(byte* input, int inputLength, bool inputEnded, byte* output, int outputLength, out int consumed, out int produced)
    {
        if (inputEnded && inputLength == 0 && _atFrameEnd)
        {
            consumed = produced = 0;
            return true;
        }
        var inBuffer = new ZstdBuffer { Data = input, Size = (nuint)inputLength };
        var outBuffer = new ZstdBuffer { Data = output, Size = (nuint)outputLength };
        var hint = ZstdNative.ZSTD_decompressStream(_stream, &outBuffer, &inBuffer);
        if (ZstdNative.ZSTD_isError(hint) != 0)
        {
            throw Corrupt(Marshal.PtrToStringAnsi(ZstdNative.ZSTD_getErrorName(hint)) ?? "unknown error");
        }
        consumed = (int)inBuffer.Position;
        produced = (int)outBuffer.Position;
        if (consumed > 0 || produced > 0)
        {
            // 0: a frame ended and is flushed; the data may end here or another frame follow.
            _atFrameEnd = hint == 0;
        }
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (_stream != 0)
        {
            ZstdNative.ZSTD_freeDStream(_stream);
            _stream = 0;
        }
        base.Dispose(disposing);
    }
}
