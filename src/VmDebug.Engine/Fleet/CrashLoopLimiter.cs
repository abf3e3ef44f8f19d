namespace VmDebug.Engine.Fleet;

/// <summary>
/// Dumps a guest at most N times within a sliding window, so a guest that panics again after each reset does not
/// fill the archive (libvirt's coredump-restart loops forever). Crashes over the limit are counted against the
/// guest's last capture, whose crash.json then says how many were not dumped.
/// </summary>
public sealed class CrashLoopLimiter
{
    private readonly int? _limit;
    private readonly TimeSpan _window;
    private readonly Dictionary<string, GuestRecord> _guests = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    public CrashLoopLimiter(int? limit, TimeSpan window)
    {
        _limit = limit;
        _window = window;
    }

    /// <summary>True when this crash may be dumped (and counts toward the window); false when the guest is over its limit.</summary>
    public bool TryAdmit(string guest, DateTimeOffset now)
    {
        lock (_gate)
        {
            var record = RecordOf(guest);
            while (record.Admitted.Count > 0 && record.Admitted.Peek() <= now - _window)
            {
                record.Admitted.Dequeue();
            }
            if (_limit is { } limit && record.Admitted.Count >= limit)
            {
                return false;
            }
            record.Admitted.Enqueue(now);
            record.Warned = false;
            return true;
        }
    }

    /// <summary>Remembers the folder of the guest's latest capture.</summary>
    public void Captured(string guest, string folder)
    {
        lock (_gate)
        {
            var record = RecordOf(guest);
            record.LastCapture = folder;
            record.Suppressed = 0;
        }
    }

    /// <summary>Counts one crash not dumped: its guest's last capture, the count so far, and whether this is the first of the spell.</summary>
    public (string? LastCapture, int Suppressed, bool First) Suppress(string guest)
    {
        lock (_gate)
        {
            var record = RecordOf(guest);
            record.Suppressed++;
            var first = !record.Warned;
            record.Warned = true;
            return (record.LastCapture, record.Suppressed, first);
        }
    }

    private GuestRecord RecordOf(string guest)
    {
        if (!_guests.TryGetValue(guest, out var record))
        {
            record = new GuestRecord();
            _guests[guest] = record;
        }
        return record;
    }

    private sealed class GuestRecord
    {
        public Queue<DateTimeOffset> Admitted { get; } = new();
        public string? LastCapture { get; set; }
        public int Suppressed { get; set; }
        public bool Warned { get; set; }
    }
}
