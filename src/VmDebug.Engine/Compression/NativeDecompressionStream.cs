using System.Runtime.InteropServices;
using VmDebug.Engine.Native;

namespace VmDebug.Engine.Compression;

/// <summary>
/// A forward-only stream that decompresses another stream through a native streaming decoder (libzstd, liblzma):
/// fixed buffers in and out, so memory stays bounded whatever the size of the data.
/// </summary>
internal abstract class NativeDecompressionStream : Stream
{
    private const int InputBytes = 1 << 17;

    private readonly Stream _input;
    private readonly byte[] _inputBuffer = GC.AllocateUninitializedArray<byte>(InputBytes, pinned: true);
    private int _inputStart, _inputEnd;
    private bool _inputDone, _finished;
    private long _position;

    protected NativeDecompressionStream(Stream input, string source)
    {
        _input = input;
        Source = source;
    }

    /// <summary>The compressed file, for error messages.</summary>
    protected string Source { get; }

    protected abstract string FormatName { get; }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override unsafe int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty || _finished)
        {
            return 0;
        }
        while (true)
        {
            if (_inputStart == _inputEnd && !_inputDone)
            {
                _inputStart = 0;
                _inputEnd = _input.Read(_inputBuffer, 0, InputBytes);
                _inputDone = _inputEnd == 0;
            }
            int consumed, produced;
            bool ended;
            fixed (byte* output = buffer)
            fixed (byte* input = _inputBuffer)
            {
                ended = Decode(input + _inputStart, _inputEnd - _inputStart, _inputDone, output, buffer.Length, out consumed, out produced);
            }
            _inputStart += consumed;
            _position += produced;
            if (ended)
            {
                _finished = true;
                return produced;
            }
            if (produced > 0)
            {
                return produced;
            }
            if (_inputDone && _inputStart == _inputEnd && consumed == 0)
            {
                throw Corrupt("the compressed data ends in the middle of a frame (the file is truncated)");
            }
        }
    }

    /// <summary>
    /// Runs the decoder over the input available; returns true at the end of all data. <paramref name="inputEnded"/>
    /// says no more input will come.
    /// </summary>
    protected abstract unsafe bool Decode(byte* input, int inputLength, bool inputEnded, byte* output, int outputLength, out int consumed, out int produced);

    protected CompressionException Corrupt(string reason) =>
        new("CompressedCoreCorrupt", ErrorKind.InvalidData, $"{Source}: cannot decompress this {FormatName} file: {reason}.", Source);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _input.Dispose();
        }
        base.Dispose(disposing);
    }
}

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
