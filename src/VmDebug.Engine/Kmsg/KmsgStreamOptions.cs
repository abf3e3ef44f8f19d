using VmDebug.Engine;

namespace VmDebug;

/// <summary>What to read from a kmsg stream and the limits that protect the host from guests.</summary>
public sealed class KmsgStreamOptions
{
    /// <summary>Stop after this many records (events do not count). Null: no limit.</summary>
    public int? Count { get; init; }

    /// <summary>Stop (without error) after this long. Null: until cancelled, or until a chardev source closes.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Least severe level passed on: Warn passes Emerg..Warn. Default Debug passes all.</summary>
    public KmsgLevel MinimumLevel { get; init; } = KmsgLevel.Debug;

    /// <summary>Longest record kept, in bytes (header and continuation lines); longer ones are cut and marked Truncated.</summary>
    public int MaxRecordLength { get; init; } = 16 * 1024;

    /// <summary>
    /// Most bytes one connection may hold at once: its read buffer, the record being assembled, and parsed records
    /// not yet consumed. A guest that sends faster than the consumer reads is paused (its socket is not read).
    /// </summary>
    public int MaxBufferedBytesPerConnection { get; init; } = 1024 * 1024;

    /// <summary>Most guests connected at once; further connections are closed and reported.</summary>
    public int MaxConnections { get; init; } = 64;

    /// <summary>
    /// How long a complete record waits for a continuation line before it is passed on. /dev/kmsg hands a record
    /// and its continuation lines to one read, so they normally arrive together.
    /// </summary>
    public TimeSpan ContinuationWait { get; init; } = TimeSpan.FromMilliseconds(10);

    internal const int ReadBufferSize = 16 * 1024;

    /// <summary>Estimated memory of the largest record object, used to size the per-connection queue.</summary>
    internal long MaxRecordCost => 4L * MaxRecordLength + Engine.Kmsg.KmsgParser.MaxFields * 96L + 256;

    /// <summary>Bytes of parsed items a connection may queue: the bound minus the read buffer, the framer and the final event.</summary>
    internal long QueueLimit => (long)MaxBufferedBytesPerConnection - ReadBufferSize - MaxRecordLength - Engine.Kmsg.KmsgPipeline.EventCost;

    internal void Validate()
    {
        if (Count is <= 0)
        {
            throw Invalid(nameof(Count), "must be positive");
        }

        if (Timeout is { } timeout && timeout <= TimeSpan.Zero)
        {
            throw Invalid(nameof(Timeout), "must be positive");
        }

        if (MaxRecordLength is < 64 or > 16 * 1024 * 1024)
        {
            throw Invalid(nameof(MaxRecordLength), "must be between 64 bytes and 16 MiB");
        }

        if (QueueLimit < MaxRecordCost)
        {
            throw Invalid(nameof(MaxBufferedBytesPerConnection),
                $"must be at least {MaxBufferedBytesPerConnection - QueueLimit + MaxRecordCost} bytes for a maximum record length of {MaxRecordLength}");
        }

        if (MaxConnections < 1)
        {
            throw Invalid(nameof(MaxConnections), "must be at least 1");
        }

        if (ContinuationWait < TimeSpan.Zero)
        {
            throw Invalid(nameof(ContinuationWait), "must not be negative");
        }
    }

    private static VmDebugException Invalid(string option, string reason) =>
        new("KmsgOptionInvalid", ErrorKind.InvalidArgument, $"The kmsg stream option {option} {reason}.", option);
}
