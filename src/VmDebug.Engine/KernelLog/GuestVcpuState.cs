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

    /// <summary>
    /// A vCPU inside a crash summary, as the list view and the CLI show it (and what remoting keeps of it past depth 1);
    /// RSP and CR3 are in the vCPU's own table view.
    /// </summary>
    public override string ToString() =>
        $"{Cpu}: 0x{Rip:x16}{(RipSymbol is null ? "" : " " + RipSymbol)}";
}
