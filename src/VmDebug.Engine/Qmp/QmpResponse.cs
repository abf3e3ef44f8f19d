namespace VmDebug;

/// <summary>One raw QMP command and what QEMU returned.</summary>
public sealed class QmpResponse
{
    public required string QmpSocket { get; init; }
    public required string Command { get; init; }

    /// <summary>QEMU's "return" member as plain values (dictionaries, arrays, numbers, strings).</summary>
    public object? Return { get; init; }

    /// <summary>The "return" member as QEMU sent it.</summary>
    public required string ReturnJson { get; init; }

    public required TimeSpan Duration { get; init; }
}
