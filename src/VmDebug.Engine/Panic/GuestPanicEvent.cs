namespace VmDebug;

/// <summary>A guest panic as QEMU reported it.</summary>
public sealed class GuestPanicEvent
{
    public required GuestPanicKind Kind { get; init; }

    /// <summary>
    /// When QEMU saw the panic (the QMP event's timestamp). Null when the guest had panicked before VmDebug connected:
    /// QEMU keeps no record of when, and the time of the query would be a wrong answer.
    /// </summary>
    public DateTimeOffset? Time { get; init; }

    /// <summary>What QEMU did about it: pause, poweroff or run (-action panic=…; libvirt's on_crash).</summary>
    public string? Action { get; init; }

    /// <summary>The panic information QEMU passes on (hyper-v parameters, s390 reason, tdx…), when the guest gave any.</summary>
    public System.Collections.Specialized.OrderedDictionary? Info { get; init; }

    public required string QmpSocket { get; init; }

    /// <summary>How long VmDebug waited for the panic.</summary>
    public required TimeSpan Waited { get; init; }

    /// <summary>True when the guest had already panicked before VmDebug connected (seen from query-status, not an event).</summary>
    public bool AlreadyPanicked { get; init; }

    public override string ToString() =>
        $"{Kind} {(Time is { } time ? $"at {time:O}" : "before VmDebug connected (time unknown)")} (action {Action ?? "unknown"})";
}
