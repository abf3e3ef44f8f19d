using System.Buffers.Binary;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.KernelLog;

/// <summary>
/// QEMU's per-vCPU "QEMU" notes (type 0) in dump-guest-memory output, one per vCPU in CPU order. Layout of
/// QEMUCPUState (target/i386/arch_dump.c): u32 version, u32 size, rax rbx rcx rdx rsi rdi rsp rbp r8..r15 rip rflags
/// (u64 each), ten 24-byte segments (cs ds es fs gs ss ldt tr gdt idt), cr[5], kernel_gs_base.
/// </summary>
internal static class QemuCpuNotes
{
    private const int RspOffset = 8 + 6 * 8;
    private const int RipOffset = 8 + 16 * 8;
    private const int Cr3Offset = 8 + 18 * 8 + 10 * 24 + 3 * 8;

    public static IReadOnlyList<(ulong Rip, ulong Rsp, ulong Cr3)> Read(IEnumerable<ElfNote> notes) =>
        notes.Where(n => n.Name == "QEMU" && n.Type == 0 && n.Descriptor.Length >= Cr3Offset + 8)
            .Select(n => (
                BinaryPrimitives.ReadUInt64LittleEndian(n.Descriptor.AsSpan(RipOffset)),
                BinaryPrimitives.ReadUInt64LittleEndian(n.Descriptor.AsSpan(RspOffset)),
                BinaryPrimitives.ReadUInt64LittleEndian(n.Descriptor.AsSpan(Cr3Offset))))
            .ToList();
}
