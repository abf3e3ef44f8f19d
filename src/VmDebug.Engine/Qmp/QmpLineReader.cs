using System.Net.Sockets;

namespace VmDebug.Engine.Qmp;

/// <summary>
/// Splits the server's byte stream into messages. QEMU writes each QMP message as one line of compact JSON
/// ending in '\n' (control characters inside strings are escaped), so a newline always ends a message.
/// </summary>
internal sealed class QmpLineReader
{
    private readonly Socket _socket;
    private readonly int _maxMessageBytes;
    private byte[] _buffer = new byte[8192];
    private int _start;
    private int _end;
    private int _scanned;

    public QmpLineReader(Socket socket, int maxMessageBytes)
    {
        _socket = socket;
        _maxMessageBytes = maxMessageBytes;
    }

    /// <summary>Bytes received but not yet returned as a message (shown in errors about non-QMP peers).</summary>
    public ReadOnlySpan<byte> Pending => _buffer.AsSpan(_start, _end - _start);

    /// <summary>The next message without its line end, or null at end of stream.</summary>
    /// <exception cref="MessageTooLargeException">The line exceeds the limit.</exception>
    public async ValueTask<ReadOnlyMemory<byte>?> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _scanned, _end - _scanned);
            if (newline >= 0)
            {
                var line = _buffer.AsMemory(_start, newline - _start);
                _start = _scanned = newline + 1;
                return line;
            }

            _scanned = _end;
            if (_end - _start > _maxMessageBytes)
            {
                throw new MessageTooLargeException(_end - _start);
            }

            MakeRoom();
            var read = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return null;
            }

            _end += read;
        }
    }

    private void MakeRoom()
    {
        if (_start > 0 && _start == _end)
        {
            _start = _end = _scanned = 0;
        }

        if (_end < _buffer.Length)
        {
            return;
        }

        var used = _end - _start;
        if (_start > 0 && used <= _buffer.Length / 2)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, used);
        }
        else
        {
            // Grows up to just past the limit so an oversize line is detected instead of read without bound.
            var bigger = new byte[Math.Min(Math.Max(_buffer.Length * 2, used + 8192), _maxMessageBytes + 8192)];
            Buffer.BlockCopy(_buffer, _start, bigger, 0, used);
            _buffer = bigger;
        }

        _scanned -= _start;
        _start = 0;
        _end = used;
    }

    internal sealed class MessageTooLargeException(int bytes) : Exception($"message of more than {bytes} bytes without a line end")
    {
        public int Bytes { get; } = bytes;
    }
}
