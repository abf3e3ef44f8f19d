namespace VmDebug.Engine.Compression;

/// <summary>
/// A forward-only stream that decompresses another stream through a native streaming decoder (libzstd, liblzma):
/// fixed buffers in and out, so memory stays bounded whatever the size of the data.
/// </summary>
internal abstract class NativeDecompressionStream : ForwardOnlyReadStream
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

    protected override long BytesRead => _position;

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

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _input.Dispose();
        }
        base.Dispose(disposing);
    }
}
