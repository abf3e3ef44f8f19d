namespace VmDebug.Engine.Vmcore;

/// <summary>One program header of an ELF64 vmcore.</summary>
public readonly record struct ElfProgramHeader(uint Type, uint Flags, ulong Offset, ulong VirtualAddress, ulong PhysicalAddress,
    ulong FileSize, ulong MemorySize, ulong Align)
{
    public const uint PtLoad = 1;
    public const uint PtNote = 4;
    public const int Size = 56;
}
