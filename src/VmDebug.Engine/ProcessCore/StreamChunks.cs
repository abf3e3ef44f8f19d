namespace VmDebug.Engine.ProcessCore;

/// <summary>
/// A decompressing stream read on the reader's own thread into one small buffer, so each chunk is still in the CPU's
/// cache when the reader scans and writes it: for a fast decoder (LZ4) that costs less CPU than decoding on another
/// core, whose every byte the reader would then fetch across. The first chunk is a MiB (the ELF program headers).
/// </summary>
internal sealed class StreamChunks(Stream stream) : IDecompressedChunks
{
    private const int FirstChunk = 1 << 20;
    private const int Chunk = 256 << 10;

    private readonly byte[] _buffer = GC.AllocateUninitializedArray<byte>(FirstChunk);
    private bool _first = true, _ended;

    public bool TryNext(out byte[] buffer, out int start, out int length)
    {
        buffer = _buffer;
        start = 0;
        length = _ended ? 0 : DecompressedBlocks.Fill(stream, _buffer.AsSpan(0, _first ? FirstChunk : Chunk));
        _ended = length < (_first ? FirstChunk : Chunk);
        _first = false;
        return length > 0;
    }

    public void Dispose() => stream.Dispose();
}
