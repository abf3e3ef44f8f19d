namespace VmDebug;

/// <summary>One frame of a kernel call trace as the log prints it ("? name+0xoff/0xsize [module]").</summary>
public sealed class GuestCallFrame
{
    public required string Symbol { get; init; }

    public required ulong Offset { get; init; }

    public required ulong Size { get; init; }

    /// <summary>False for frames the unwinder marked with "?" (found on the stack, maybe stale).</summary>
    public bool Reliable { get; init; } = true;

    /// <summary>The module in brackets, or null for the kernel image.</summary>
    public string? Module { get; init; }

    /// <summary>The address, resolved through kallsyms by name and size; null when not resolvable (modules, no kallsyms).</summary>
    public ulong? Address { get; init; }

    public override string ToString() =>
        $"{(Reliable ? "" : "? ")}{Symbol}+0x{Offset:x}/0x{Size:x}{(Module is null ? "" : $" [{Module}]")}";
}
