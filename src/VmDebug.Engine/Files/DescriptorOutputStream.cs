using Microsoft.Win32.SafeHandles;
using VmDebug.Engine.Native;

namespace VmDebug.Engine.Files;

/// <summary>
/// A write-only stream of write(2) calls on a descriptor the process inherited, standard output above all. The bytes
/// go out as they are and move the descriptor's shared offset, as C's stdio does, so <c>{ a; b; } &gt; file</c>
/// keeps both outputs (a FileStream keeps an offset of its own). Console's stream sets the terminal up before its
/// first write, a tenth of a <c>vmdebug log</c> run.
/// </summary>
public sealed class DescriptorOutputStream : Stream
{
    private readonly SafeFileHandle _handle;
    private readonly string _name;

    private DescriptorOutputStream(SafeFileHandle handle, string name)
    {
        _handle = handle;
        _name = name;
    }

    public static DescriptorOutputStream StandardOutput() => new(new SafeFileHandle(1, ownsHandle: false), "standard output");

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var written = FifoNative.Write(_handle, buffer);
            if (written >= 0)
            {
                buffer = buffer[written..];
            }
            else if (written == -UnixFile.EWouldBlock)
            {
                FifoNative.WaitWritable(_handle, Timeout.Infinite); // a non-blocking descriptor handed down to us
            }
            else if (written != -FifoNative.EIntr)
            {
                throw new IOException($"Writing to {_name} failed: {UnixFile.ErrorText(-written)}.", -written);
            }
        }
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
