namespace VmDebug;

/// <summary>
/// One ramoops record read from guest-physical memory: a dmesg dump (with its reason, count and time), or the content
/// of the console, ftrace or pmsg zone. <see cref="Text"/> is what the guest's /sys/fs/pstore file holds, decompressed,
/// with control characters other than newline and tab escaped so a guest cannot drive the host's terminal.
/// </summary>
public sealed class PstoreRecord
{
    /// <summary>The dump, QMP socket or libvirt domain read.</summary>
    public required string Source { get; init; }

    public required PstoreKind Kind { get; init; }

    /// <summary>Index of the zone among those of its kind (N of dmesg-ramoops-N; the CPU of an ftrace zone).</summary>
    public required int Zone { get; init; }

    /// <summary>Guest-physical address of the zone's header.</summary>
    public required ulong Address { get; init; }

    /// <summary>kmsg dump reason (Panic, Oops, Emergency, Shutdown, …); null for other kinds.</summary>
    public string? Reason { get; init; }

    /// <summary>The dump's oops count (the N of "Panic#N"); null for other kinds.</summary>
    public int? Count { get; init; }

    /// <summary>Part number of the dump (ramoops keeps only part 1); null for other kinds.</summary>
    public int? Part { get; init; }

    /// <summary>Wall-clock time the guest wrote the dump (its header); null for other kinds, which carry none.</summary>
    public DateTimeOffset? Time { get; init; }

    /// <summary>The record was stored compressed ('C' in its header) and was decompressed here.</summary>
    public bool Compressed { get; init; }

    /// <summary>The codec the record was stored with: deflate, zlib, lz4, lzo, zstd; null when not compressed.</summary>
    public string? Codec { get; init; }

    /// <summary>The record's text, control characters (but newline and tab) escaped.</summary>
    public required string Text { get; init; }

    /// <summary>One line for a table: the panic or oops line when the text has one, else its last non-empty line.</summary>
    public string Summary
    {
        get
        {
            var lines = Text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return lines.FirstOrDefault(l => l.Contains("Kernel panic - not syncing", StringComparison.Ordinal))
                ?? lines.FirstOrDefault(l => l.Contains("Oops:", StringComparison.Ordinal))
                ?? lines.LastOrDefault() ?? "";
        }
    }
}
