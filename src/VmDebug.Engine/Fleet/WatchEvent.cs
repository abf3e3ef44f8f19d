namespace VmDebug;

/// <summary>One thing the watcher saw or did; the CLI prints each as one line on stderr (JSON with --json).</summary>
public sealed class WatchEvent
{
    /// <summary>Host clock, UTC.</summary>
    public required DateTimeOffset Time { get; init; }
    public required WatchEventKind Kind { get; init; }
    public required WatchEventLevel Level { get; init; }

    /// <summary>The guest concerned, or null for events of the watcher itself.</summary>
    public string? Guest { get; init; }

    /// <summary>The QMP socket, libvirt URI or archive path concerned.</summary>
    public string? Source { get; init; }

    /// <summary>One line, control characters escaped.</summary>
    public required string Message { get; init; }

    /// <summary>The archived crash, with <see cref="WatchEventKind.CaptureCompleted"/>.</summary>
    public GuestCrash? Crash { get; init; }

    public override string ToString() => $"{Time:yyyy-MM-ddTHH:mm:ss.fffZ} {Kind}{(Guest is null ? "" : " " + Guest)}: {Message}";
}
