using System.Runtime.InteropServices;
using VmDebug.Engine.Native;

namespace VmDebug.Engine.Compression;

/// <summary>.xz streams (concatenated ones too) through liblzma.</summary>
internal sealed class XzDecompressionStream : NativeDecompressionStream
{
    // sizeof(lzma_stream) is 136 bytes on LP64 (lzma/base.h); a larger zeroed block is LZMA_STREAM_INIT.
    private const int StreamStructBytes = 256;
    private const int NextIn = 0, AvailIn = 8, NextOut = 24, AvailOut = 32;

    private nint _stream;

    public XzDecompressionStream(Stream input, string source) : base(input, source)
    {
        NativeCodecLibrary.Lzma.EnsureLoadable();
        _stream = Marshal.AllocHGlobal(StreamStructBytes);
        unsafe
        {
            new Span<byte>((void*)_stream, StreamStructBytes).Clear();
        }
        var rc = LzmaNative.lzma_stream_decoder(_stream, ulong.MaxValue, LzmaNative.Concatenated);
        if (rc != LzmaNative.Ok)
        {
            Marshal.FreeHGlobal(_stream);
            _stream = 0;
            throw new CompressionException("CompressionFailed", ErrorKind.ResourceUnavailable, $"liblzma could not create a decoder (lzma_ret {rc}).", source);
        }
    }

    protected override string FormatName => "xz";

    protected override unsafe bool Decode(byte* input, int inputLength, bool inputEnded, byte* output, int outputLength, out int consumed, out int produced)
    {
        var s = (byte*)_stream;
        *(byte**)(s + NextIn) = input;
        *(nuint*)(s + AvailIn) = (nuint)inputLength;
        *(byte**)(s + NextOut) = output;
        *(nuint*)(s + AvailOut) = (nuint)outputLength;
        var rc = LzmaNative.lzma_code(_stream, inputEnded ? LzmaNative.Finish : LzmaNative.Run);
        consumed = inputLength - (int)*(nuint*)(s + AvailIn);
        produced = outputLength - (int)*(nuint*)(s + AvailOut);
        if (rc == LzmaNative.StreamEnd)
        {
            return true;
        }
        if (rc != LzmaNative.Ok && !(rc == 10 && produced > 0)) // LZMA_BUF_ERROR: no progress possible
        {
            throw Corrupt(rc switch
            {
                7 => "the file is not in .xz format",
                9 => "the data is corrupt",
                10 => "the data ends too early (the file is truncated)",
                _ => $"lzma_ret {rc}",
            });
        }
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (_stream != 0)
        {
            LzmaNative.lzma_end(_stream);
            Marshal.FreeHGlobal(_stream);
            _stream = 0;
        }
        base.Dispose(disposing);
    }
}
