namespace VmDebug.Engine.Fleet;

/// <summary>A panic a source saw, queued for capture; <see cref="Done"/> completes when the capture (or its refusal) is over.</summary>
internal sealed record PanicNotice(string Guest, string? QmpSocket, string? Domain, string ConnectionUri, GuestPanicKind Kind, DateTimeOffset Time)
{
    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The QMP socket or libvirt URI and domain, for messages.</summary>
    public string Source => QmpSocket ?? $"{ConnectionUri}#{Domain}";
}
