namespace VmDebug.Fuzz;

/// <summary>A seekable stream that keeps nothing: writers run to the end without the harness holding their output.</summary>
internal sealed class DiscardStream : Stream
{
    private long _length;

    public override bool CanRead => false;
    public override bool CanSeek => true;
    public override bool CanWrite => true;
    public override long Length => _length;
    public override long Position { get; set; }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => Position + offset,
        _ => _length + offset,
    };

    public override void SetLength(long value) => _length = value;

    public override void Write(byte[] buffer, int offset, int count)
    {
        Position += count;
        _length = Math.Max(_length, Position);
    }
}
