namespace VmDebug;

/// <summary>What Add-VirtioTraceChannel set up (or, with -WhatIf, would set up).</summary>
public sealed class VirtioTraceSetup
{
    /// <summary>The libvirt domain; null for an XML file or QEMU arguments.</summary>
    public string? Domain { get; init; }
    /// <summary>The domain XML file edited; null otherwise.</summary>
    public string? Path { get; init; }
    /// <summary>Where the FIFO pairs are; Receive-VirtioTrace -Directory takes it.</summary>
    public required string Directory { get; init; }
    public required int CpuCount { get; init; }
    public required IReadOnlyList<VirtioTraceChannel> Channels { get; init; }
    /// <summary>The QEMU options giving a guest started by hand the same channels.</summary>
    public required IReadOnlyList<string> QemuArguments { get; init; }
    /// <summary>FIFOs made by this call (existing ones of the right kind are kept).</summary>
    public required IReadOnlyList<string> FifosCreated { get; init; }
    public required IReadOnlyList<string> Changes { get; init; }
    public required IReadOnlyList<string> Warnings { get; init; }
    /// <summary>Unified diff of the domain XML; empty for QEMU arguments.</summary>
    public required string Diff { get; init; }
    /// <summary>The domain is running: the new channels appear at its next boot.</summary>
    public bool TakesEffectAtNextBoot { get; init; }
}
