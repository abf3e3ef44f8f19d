namespace VmDebug;

/// <summary>
/// An NMI sent to a guest. Whether the guest then panics is up to its kernel (kernel.unknown_nmi_panic=1,
/// panic_on_unrecovered_nmi or panic_on_io_nmi); watch for the panic with Wait-GuestPanic or Watch-GuestPanic.
/// </summary>
public sealed class GuestNmi
{
    /// <summary>The QMP socket or the domain name.</summary>
    public required string Target { get; init; }

    public required GuestNmiChannel Channel { get; init; }

    public string? QmpSocket { get; init; }

    public string? Domain { get; init; }

    public string? ConnectionUri { get; init; }

    /// <summary>The guest's state just before the NMI: QMP's run state (running, paused…) or libvirt's domain state.</summary>
    public required string StateBefore { get; init; }

    /// <summary>When QEMU accepted the NMI (host clock, UTC).</summary>
    public required DateTimeOffset SentAt { get; init; }

    /// <summary>Why the NMI may have no effect (a paused or already panicked guest).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}
