namespace VmDebug.Engine.Vmcore;

/// <summary>
/// A page bitmap that allocates only the chunks with bits set, so its memory follows the pages present rather than
/// the highest physical address; written with unset chunks left as holes of the (new, zero-filled) output.
/// </summary>
internal sealed class SparseBitmap
{
    private const int ChunkBytes = 64 * 1024;
    private const ulong ChunkBits = ChunkBytes * 8UL;
    private readonly Dictionary<ulong, byte[]> _chunks = [];

    public void Set(ulong bit) => Chunk(bit / ChunkBits)[(int)(bit % ChunkBits / 8)] |= (byte)(1 << (int)(bit % 8));

    /// <summary>Sets bits [first, end).</summary>
    public void SetRange(ulong first, ulong end)
    {
        var bit = first;
        while (bit < end && bit % 8 != 0)
        {
            Set(bit++);
        }
        while (end - bit >= 8)
        {
            var chunk = Chunk(bit / ChunkBits);
            var from = (int)(bit % ChunkBits / 8);
            var count = (int)Math.Min((ulong)(ChunkBytes - from), (end - bit) / 8);
            chunk.AsSpan(from, count).Fill(0xff);
            bit += (ulong)count * 8;
        }
        while (bit < end)
        {
            Set(bit++);
        }
    }

    /// <summary>Writes the set chunks at <paramref name="offset"/> + their position, no further than <paramref name="length"/> bytes.</summary>
    public async Task WriteAsync(Stream output, long offset, long length, CancellationToken cancellationToken)
    {
        foreach (var (index, chunk) in _chunks.OrderBy(c => c.Key))
        {
            var start = (long)index * ChunkBytes;
            var count = (int)Math.Min(ChunkBytes, length - start);
            if (count <= 0)
            {
                continue;
            }
            output.Seek(offset + start, SeekOrigin.Begin);
            await output.WriteAsync(chunk.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
        }
    }

    private byte[] Chunk(ulong index)
    {
        if (!_chunks.TryGetValue(index, out var chunk))
        {
            chunk = new byte[ChunkBytes];
            _chunks.Add(index, chunk);
        }
        return chunk;
    }
}
