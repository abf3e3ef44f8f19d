namespace VmDebug.Engine.KernelLog;

/// <summary>One record of the guest kernel's printk ring, as stored there (text bytes unescaped).</summary>
public sealed record KernelLogEntry
{
    public required ulong Sequence { get; init; }

    /// <summary>local_clock() nanoseconds since boot.</summary>
    public required ulong TimestampNanoseconds { get; init; }

    public required int Level { get; init; }

    public required int Facility { get; init; }

    /// <summary>printk flags (LOG_NEWLINE 2, LOG_CONT 8).</summary>
    public required int Flags { get; init; }

    /// <summary>printk_info.caller_id: bit 31 set for a CPU id, else a task id; null when the ring has none.</summary>
    public uint? CallerId { get; init; }

    /// <summary>The text bytes; from a lockless ring, a view of the ring's text as read (not a copy).</summary>
    public required ReadOnlyMemory<byte> Text { get; init; }

    /// <summary>dev_printk metadata (SUBSYSTEM= / DEVICE=), empty when absent.</summary>
    public string Subsystem { get; init; } = "";

    public string Device { get; init; } = "";

    /// <summary>Other dictionary pairs of the structured (3.5–5.9) ring.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Dictionary { get; init; } = [];

    /// <summary>The data block was shorter than text_len: the text was cut.</summary>
    public bool Truncated { get; init; }

    /// <summary>Caller as /dev/kmsg prints it: T&lt;pid&gt; or C&lt;cpu&gt;.</summary>
    public string? Caller => CallerId is { } id ? ((id & 0x80000000) != 0 ? $"C{id & 0x7fffffff}" : $"T{id}") : null;
}
