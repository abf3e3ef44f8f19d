namespace VmDebug;

/// <summary>A vCPU's registers from QEMU's CPU note in a dump (QEMUCPUState, target/i386/arch_dump.c).</summary>
public sealed class GuestVcpuState
{
    public required int Cpu { get; init; }

    public required ulong Rip { get; init; }

    public required ulong Rsp { get; init; }

    public required ulong Cr3 { get; init; }

    /// <summary>The RIP as symbol+0xoffset/0xsize from the kernel's kallsyms; null for user space or without kallsyms.</summary>
    public string? RipSymbol { get; init; }
}
