using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using VmDebug.Engine.Files;
using static VmDebug.Engine.Native.LibcPipes;

namespace VmDebug.Engine.Dump;

/// <summary>
/// The pipe QEMU writes its dump into. The write end goes to QEMU with getfd and is closed here at once, so the
/// read end sees end-of-file when QEMU closes its copy; when this process dies or gives up, the read end closes and
/// QEMU's next write fails with EPIPE (QEMU ignores SIGPIPE), so QEMU ends the dump and resumes the guest instead of
/// writing on into a file nobody wants. Reads are non-blocking with poll, so cancellation never waits on QEMU.
/// </summary>
internal sealed class DumpPipe : IDisposable
{
    private const int OCloexec = 0x80000, ONonBlock = 0x800;
    private const int FSetPipeSize = 1031;
    private const int EAgain = 11, EIntr = 4, EInval = 22;
    private const uint SpliceNonBlock = 2;
    private const short PollIn = 0x1;
    private const int PollMilliseconds = 100;
    // The default pipe-max-size: fewer wake-ups per MiB QEMU writes.
    private const int PipeBytes = 1 << 20;

    private readonly SafeFileHandle _read;

    private DumpPipe(SafeFileHandle read, SafeFileHandle write)
    {
        _read = read;
        WriteEnd = write;
    }

    /// <summary>The end QEMU writes; pass it with getfd, then <see cref="CloseWriteEnd"/>.</summary>
    public SafeFileHandle WriteEnd { get; }

    /// <summary>Bytes read so far.</summary>
    public long Position { get; private set; }

    public static DumpPipe Create()
    {
        if (UnixFile.CreatePipe(out var read, out var write) is var errno and not 0)
        {
            throw new VmDebugException("DumpPipeNotCreated", ErrorKind.ResourceUnavailable,
                $"Cannot create the pipe QEMU writes the dump into: {UnixFile.ErrorText(errno)}.", null);
        }
        var pipe = new DumpPipe(read, write);
        // Best effort: a smaller pipe only costs more wake-ups.
        _ = fcntl((int)write.DangerousGetHandle(), FSetPipeSize, PipeBytes);
        if (fcntl((int)read.DangerousGetHandle(), 4 /* F_SETFL */, ONonBlock) != 0)
        {
            pipe.Dispose();
            throw new VmDebugException("DumpPipeNotCreated", ErrorKind.ResourceUnavailable,
                $"Cannot make the dump pipe non-blocking: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}.", null);
        }
        return pipe;
    }

    /// <summary>
    /// A pipe for a writer that opens a path itself (libvirt): <see cref="PathForWriter"/>, this process's
    /// <c>/proc/PID/fd/N</c> of the write end. No FIFO is made in any file system, so a killed VmDebug leaves
    /// nothing behind. The pipe would read as ended if the write end closed before the writer opened its own, so
    /// this keeps the write end until the first bytes arrive; by then the real writer holds its own.
    /// </summary>
    public static DumpPipe CreateForPath()
    {
        var pipe = Create();
        pipe._closeWriteEndOnData = true;
        return pipe;
    }

    /// <summary>The path another process (as this user or root) opens to write into this pipe.</summary>
    public string PathForWriter => UnixFile.PathForOtherProcess(WriteEnd);

    private bool _closeWriteEndOnData;
    private SafeFileHandle? _devNull;
    private bool _spliceRefused;

    public void CloseWriteEnd() => WriteEnd.Dispose();

    /// <summary>
    /// Fills <paramref name="buffer"/> unless the stream ends first; returns the bytes read (fewer only at end of stream).
    /// <paramref name="idle"/> is told how long no byte has come, so a stalled writer can be given up on.
    /// </summary>
    public int ReadFull(Span<byte> buffer, Action<TimeSpan> idle, CancellationToken cancellationToken)
    {
        var done = 0;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (done < buffer.Length)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var n = Read(buffer[done..]);
            if (n > 0)
            {
                if (_closeWriteEndOnData)
                {
                    _closeWriteEndOnData = false;
                    WriteEnd.Dispose();
                }
                done += n;
                Position += n;
                waited.Restart();
                continue;
            }
            if (n == 0)
            {
                break;
            }
            var errno = Marshal.GetLastPInvokeError();
            if (errno == EIntr)
            {
                continue;
            }
            if (errno != EAgain)
            {
                throw new IOException($"reading the dump pipe failed: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
            }
            var pollFd = new PollFd { Fd = (int)_read.DangerousGetHandle(), Events = PollIn };
            _ = poll(ref pollFd, 1, PollMilliseconds);
            idle(waited.Elapsed);
        }
        return done;
    }

    /// <summary>
    /// Drops <paramref name="bytes"/> bytes without copying them out of the kernel: spliced into /dev/null, which frees
    /// the pipe's pages at once (the pages a dump level leaves out, most of a -d 31 stream). Falls back to reading
    /// where splice is refused. Returns the bytes dropped (fewer only at end of stream).
    /// </summary>
    public long Discard(long bytes, Action<TimeSpan> idle, CancellationToken cancellationToken)
    {
        if (_devNull is null && !_spliceRefused)
        {
            _devNull = UnixFile.Open("/dev/null", 1 /* O_WRONLY */ | OCloexec, 0, out var errno);
            if (errno != 0)
            {
                _devNull.Dispose();
                _devNull = null;
                _spliceRefused = true;
            }
        }
        long dropped = 0;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (dropped < bytes && !_spliceRefused)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var n = (long)splice((int)_read.DangerousGetHandle(), 0, (int)_devNull!.DangerousGetHandle(), 0, (nuint)(bytes - dropped), SpliceNonBlock);
            if (n > 0)
            {
                dropped += n;
                Position += n;
                waited.Restart();
                continue;
            }
            if (n == 0)
            {
                return dropped;
            }
            var errno = Marshal.GetLastPInvokeError();
            if (errno == EIntr)
            {
                continue;
            }
            if (errno == EInval)
            {
                _spliceRefused = true;
                break;
            }
            if (errno != EAgain)
            {
                throw new IOException($"reading the dump pipe failed: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
            }
            var pollFd = new PollFd { Fd = (int)_read.DangerousGetHandle(), Events = PollIn };
            _ = poll(ref pollFd, 1, PollMilliseconds);
            idle(waited.Elapsed);
        }
        return dropped + (dropped < bytes ? Skip(bytes - dropped, idle, cancellationToken) : 0);
    }

    /// <summary>Reads and drops <paramref name="bytes"/> bytes (gaps between the parts of QEMU's file).</summary>
    public long Skip(long bytes, Action<TimeSpan> idle, CancellationToken cancellationToken)
    {
        var scratch = new byte[64 * 1024];
        long skipped = 0;
        while (skipped < bytes)
        {
            var n = ReadFull(scratch.AsSpan(0, (int)Math.Min(scratch.Length, bytes - skipped)), idle, cancellationToken);
            if (n == 0)
            {
                break;
            }
            skipped += n;
        }
        return skipped;
    }

    private unsafe int Read(Span<byte> buffer)
    {
        fixed (byte* at = buffer)
        {
            return (int)read((int)_read.DangerousGetHandle(), at, (nuint)buffer.Length);
        }
    }

    public void Dispose()
    {
        WriteEnd.Dispose();
        _read.Dispose();
        _devNull?.Dispose();
    }
}
