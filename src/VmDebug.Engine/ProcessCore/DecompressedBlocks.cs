using System.Collections.Concurrent;

namespace VmDebug.Engine.ProcessCore;

/// <summary>
/// Decompresses a stream on a thread of its own into fixed-size blocks, a few ahead of the reader: decompression
/// then overlaps with what the reader does with each block. The blocks are recycled, so memory stays at
/// <c>depth</c> + 2 blocks whatever the size of the data.
/// </summary>
internal sealed class DecompressedBlocks : IDecompressedChunks
{
    private readonly Stream _stream;
    private readonly int _blockBytes;
    private readonly BlockingCollection<(byte[] Data, int Length)> _ready;
    private readonly ConcurrentBag<byte[]> _free = [];
    private readonly CancellationTokenSource _stop;
    private readonly Thread _producer;
    private Exception? _failure;
    private byte[]? _held; // the block handed out as a chunk, returned at the next one

    public DecompressedBlocks(Stream stream, int blockBytes, int depth, CancellationToken cancellationToken)
    {
        _stream = stream;
        _blockBytes = blockBytes;
        _ready = new BlockingCollection<(byte[], int)>(depth);
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _producer = new Thread(Produce) { IsBackground = true, Name = "vmdebug core decompression" };
        _producer.Start();
    }

    private void Produce()
    {
        try
        {
            while (true)
            {
                var block = _free.TryTake(out var recycled) ? recycled : GC.AllocateUninitializedArray<byte>(_blockBytes);
                var length = Fill(_stream, block);
                if (length == 0)
                {
                    break;
                }
                _ready.Add((block, length), _stop.Token);
                if (length < _blockBytes)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // The reader stopped early or was cancelled; it throws its own cancellation.
        }
        catch (Exception e)
        {
            _failure = e;
        }
        finally
        {
            _ready.CompleteAdding();
        }
    }

    /// <summary>The next block (full but for the last); false at the end of the data. Rethrows a decompression error.</summary>
    public bool TryNext(out byte[] block, out int length)
    {
        if (_ready.TryTake(out var item, Timeout.Infinite, _stop.Token))
        {
            (block, length) = item;
            return true;
        }
        if (_failure is { } failure)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
        block = [];
        length = 0;
        return false;
    }

    bool IDecompressedChunks.TryNext(out byte[] buffer, out int start, out int length)
    {
        if (_held is { } held)
        {
            Return(held);
            _held = null;
        }
        start = 0;
        if (!TryNext(out buffer, out length))
        {
            return false;
        }
        _held = buffer;
        return true;
    }

    /// <summary>Hands a block back for reuse once the reader is done with it.</summary>
    public void Return(byte[] block)
    {
        if (block.Length == _blockBytes)
        {
            _free.Add(block);
        }
    }

    internal static int Fill(Stream stream, Span<byte> buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = stream.Read(buffer[total..]);
            if (n == 0)
            {
                break;
            }
            total += n;
        }
        return total;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _producer.Join();
        _stream.Dispose();
        _ready.Dispose();
        _stop.Dispose();
    }
}
