using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using VmDebug.Engine.Compression;
using VmDebug.Engine.Native;

namespace VmDebug.Engine.ProcessCore;

/// <summary>
/// Decompresses a .zst file straight into a small ring buffer and hands each block's whole pages to the reader
/// while they are still in the CPU's cache. libzstd's buffer-less API decodes every block right after the previous
/// one and refers back into the ring for its window, so no byte is copied out of a decoder window (as
/// ZSTD_decompressStream does) and no byte crosses to another core: on a QEMU core, gigabytes of zeros are written
/// once, into cache, and read once. A block never straddles the ring's end: the decoder turns to the ring's start
/// there, carrying the unfinished page along, so chunks stay whole pages. Memory stays at the ring (the window and
/// three blocks) whatever the size of the data.
/// </summary>
internal sealed unsafe class ZstdRingDecoder : IDecompressedChunks
{
    private const int Page = 4096;
    private const int BlockMax = 128 << 10; // ZSTD_BLOCKSIZE_MAX: no block decodes to more
    private const int InputBytes = 256 << 10;
    private const int FirstChunk = 1 << 20; // the reader expects the ELF program headers in its first chunk
    private const long MaxWindow = 1L << 27; // libzstd's own streaming limit (ZSTD_WINDOWLOG_LIMIT_DEFAULT)

    private readonly string _path;
    private readonly SafeFileHandle _file;
    private readonly Input _input;
    private readonly CancellationToken _cancellationToken;
    private nint _context;
    private byte[] _ring = [];
    private int _consumed; // ring index before which the reader is done
    private int _decoded; // ring index where decoded data ends
    private bool _inFrame, _ended;
    private bool _first = true;

    public ZstdRingDecoder(string path, CancellationToken cancellationToken)
    {
        NativeCodecLibrary.Zstd.EnsureLoadable();
        _path = path;
        _cancellationToken = cancellationToken;
        _file = Files.ReadOnlyFile.Open(path, "ProcessCore", "core file");
        _input = new Input(_file, path);
        _context = ZstdNative.ZSTD_createDCtx();
        if (_context == 0)
        {
            _file.Dispose();
            throw new CompressionException("CompressionFailed", ErrorKind.ResourceUnavailable, "libzstd could not create a decompression context.", path);
        }
    }

    public bool TryNext(out byte[] buffer, out int start, out int length)
    {
        while (true)
        {
            var available = _decoded - _consumed;
            var whole = available - available % Page;
            if (whole >= (_first ? FirstChunk : Page) || (_ended && available > 0))
            {
                buffer = _ring;
                start = _consumed;
                length = whole > 0 ? whole : available;
                _consumed += length;
                _first = false;
                return true;
            }
            if (_ended)
            {
                buffer = [];
                start = length = 0;
                return false;
            }
            _cancellationToken.ThrowIfCancellationRequested();
            DecodeBlock();
        }
    }

    /// <summary>Decodes the next block (or a frame's header), or notes the end of the data.</summary>
    private void DecodeBlock()
    {
        nuint need;
        if (!_inFrame)
        {
            if (!_input.Fill(1))
            {
                _ended = true;
                return;
            }
            ZstdFrameHeader header;
            while ((need = ZstdNative.ZSTD_getFrameHeader(&header, _input.Next, (nuint)_input.Available)) != 0)
            {
                Check(need);
                if (need > InputBytes || !_input.Fill((int)need))
                {
                    throw Truncated();
                }
            }
            if (header.FrameType == ZstdFrameHeader.SkippableFrame)
            {
                // Metadata: magic, length (libzstd leaves headerSize 0 for these), that many bytes.
                _input.Skip(8 + (long)header.FrameContentSize);
                return;
            }
            EnsureRing(header.WindowSize);
            Check(ZstdNative.ZSTD_decompressBegin(_context));
            _inFrame = true;
        }
        need = ZstdNative.ZSTD_nextSrcSizeToDecompress(_context);
        if (need == 0)
        {
            _inFrame = false;
            return;
        }
        if (need > InputBytes || !_input.Fill((int)need))
        {
            throw Truncated();
        }
        if (_decoded + BlockMax > _ring.Length)
        {
            Turn(_ring);
        }
        var ring = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_ring));
        var produced = ZstdNative.ZSTD_decompressContinue(_context, ring + _decoded, BlockMax, _input.Next, need);
        Check(produced);
        _input.Take((int)need);
        _decoded += (int)produced;
    }

    /// <summary>
    /// The ring holds the window, a block being decoded, a block's worth of libzstd's scratch (split literals) and a
    /// carried page; a frame that needs more (a later frame of a concatenated file) gets a larger ring.
    /// </summary>
    private void EnsureRing(ulong windowSize)
    {
        if (windowSize > MaxWindow)
        {
            throw Corrupt($"a frame asks for a {Units.FormatBytes((long)Math.Min(windowSize, long.MaxValue))} window, more than the {Units.FormatBytes(MaxWindow)} allowed");
        }
        var size = Math.Max((int)windowSize + 3 * BlockMax, FirstChunk + BlockMax) + 2 * Page;
        if (size > _ring.Length)
        {
            // A new frame refers to nothing before it: only the unfinished page moves.
            Turn(GC.AllocateUninitializedArray<byte>(size, pinned: true));
        }
    }

    /// <summary>
    /// Moves the unread bytes to the start of <paramref name="ring"/>: less than a page (the reader takes whole pages),
    /// or what came before the first chunk when a frame's ring grows.
    /// </summary>
    private void Turn(byte[] ring)
    {
        var carry = _decoded - _consumed;
        _ring.AsSpan(_consumed, carry).CopyTo(ring);
        _ring = ring;
        _consumed = 0;
        _decoded = carry;
    }

    private void Check(nuint code)
    {
        if (ZstdNative.ZSTD_isError(code) != 0)
        {
            throw Corrupt(Marshal.PtrToStringAnsi(ZstdNative.ZSTD_getErrorName(code)) ?? "unknown error");
        }
    }

    private CompressionException Truncated() => Corrupt("the compressed data ends in the middle of a frame (the file is truncated)");

    private CompressionException Corrupt(string reason) =>
        new("CompressedCoreCorrupt", ErrorKind.InvalidData, $"{_path}: cannot decompress this zstd file: {reason}.", _path);

    public void Dispose()
    {
        if (_context != 0)
        {
            ZstdNative.ZSTD_freeDCtx(_context);
            _context = 0;
        }
        _file.Dispose();
    }

    /// <summary>The compressed bytes, read in large pieces into a pinned buffer and handed to libzstd where they lie.</summary>
    private sealed class Input(SafeFileHandle file, string path)
    {
        private readonly byte[] _buffer = GC.AllocateUninitializedArray<byte>(InputBytes, pinned: true);
        private int _start, _end;
        private long _fileOffset;

        public int Available => _end - _start;

        public byte* Next => (byte*)Unsafe.AsPointer(ref _buffer[_start]);

        /// <summary>Makes <paramref name="count"/> bytes available in one piece; false when the file ends first.</summary>
        public bool Fill(int count)
        {
            if (Available >= count)
            {
                return true;
            }
            _buffer.AsSpan(_start, Available).CopyTo(_buffer);
            _end = Available;
            _start = 0;
            while (_end < count)
            {
                var n = RandomAccess.Read(file, _buffer.AsSpan(_end), _fileOffset);
                if (n == 0)
                {
                    return false;
                }
                _end += n;
                _fileOffset += n;
            }
            return true;
        }

        public void Take(int count) => _start += count;

        public void Skip(long count)
        {
            var inBuffer = (int)Math.Min(count, Available);
            _start += inBuffer;
            _fileOffset += count - inBuffer;
            if (_fileOffset > RandomAccess.GetLength(file))
            {
                throw new CompressionException("CompressedCoreCorrupt", ErrorKind.InvalidData,
                    $"{path}: cannot decompress this zstd file: a skippable frame runs past the end of the file.", path);
            }
        }
    }
}
