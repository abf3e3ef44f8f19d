namespace VmDebug.Engine.Kmsg;

/// <summary>
/// Cuts a byte stream into /dev/kmsg records. A record is a line not starting with a space plus the lines that
/// follow it starting with a space, so a record is only known complete when the next line begins (or, on a live
/// stream, when the sender falls silent: <see cref="FlushPending"/>). Records may be split across reads or arrive
/// several per read. <see cref="Feed"/> stops after each completed record so the caller can apply back-pressure
/// per record; the record stays readable through <see cref="TryTakeRecord"/> until the next call. Memory is bounded by the maximum record length: the excess of a longer record is discarded
/// up to its end and the record is marked truncated.
/// </summary>
public sealed class KmsgFramer
{
    private readonly byte[] _record;
    private int _length;
    private bool _truncated;
    private bool _inRecord;
    private bool _atLineStart = true;
    private int _completedLength = -1;
    private bool _completedTruncated;

    public KmsgFramer(int maxRecordLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRecordLength, 16);
        _record = new byte[maxRecordLength];
    }

    /// <summary>Bytes held for the record being assembled; never more than the maximum record length.</summary>
    public int BufferedBytes => _length + Math.Max(_completedLength, 0);

    /// <summary>True when a record's lines are complete but a continuation line might still follow.</summary>
    public bool HasPendingRecord => _inRecord && _atLineStart;

    /// <summary>
    /// Consumes bytes until the input ends or a record completes, and returns how many were consumed
    /// (0 is possible when the first byte completes the pending record).
    /// </summary>
    public int Feed(ReadOnlySpan<byte> data)
    {
        if (_completedLength >= 0)
        {
            throw new InvalidOperationException("Take the completed record before feeding more bytes.");
        }

        var total = data.Length;
        while (!data.IsEmpty)
        {
            if (_atLineStart)
            {
                var first = data[0];
                if (_inRecord && first != (byte)' ')
                {
                    Complete();
                    return total - data.Length;
                }

                if (first == (byte)'\n')
                {
                    // A blank line carries nothing.
                    data = data[1..];
                    continue;
                }

                if (_inRecord)
                {
                    Store("\n"u8);
                }

                _inRecord = true;
                _atLineStart = false;
            }

            var newline = data.IndexOf((byte)'\n');
            if (newline < 0)
            {
                Store(data);
                break;
            }

            Store(data[..newline]);
            _atLineStart = true;
            data = data[(newline + 1)..];
        }

        return total;
    }

    /// <summary>The record completed by the last call, if any; the span is valid until the next call.</summary>
    public bool TryTakeRecord(out ReadOnlySpan<byte> record, out bool truncated)
    {
        if (_completedLength < 0)
        {
            record = default;
            truncated = false;
            return false;
        }

        record = _record.AsSpan(0, _completedLength);
        truncated = _completedTruncated;
        _completedLength = -1;
        return true;
    }

    /// <summary>Hands over a record whose lines are complete, when no continuation line arrived in time.</summary>
    public void FlushPending()
    {
        if (HasPendingRecord)
        {
            Complete();
        }
    }

    /// <summary>End of stream: hands over whatever record is left, complete or not.</summary>
    public void Finish()
    {
        if (_inRecord)
        {
            Complete();
        }
    }

    private void Store(ReadOnlySpan<byte> bytes)
    {
        var room = _record.Length - _length;
        if (bytes.Length > room)
        {
            bytes = bytes[..room];
            _truncated = true;
        }

        bytes.CopyTo(_record.AsSpan(_length));
        _length += bytes.Length;
    }

    private void Complete()
    {
        _completedLength = _length;
        _completedTruncated = _truncated;
        _length = 0;
        _truncated = false;
        _inRecord = false;
        _atLineStart = true;
    }
}
