namespace VmDebug.Engine.GuestKernel;

/// <summary>A kernel address resolved to the nearest symbol at or below it.</summary>
public readonly record struct KernelSymbolMatch(string Name, ulong Address, ulong Offset, ulong Size)
{
    /// <summary>As the kernel prints it: name+0xoffset/0xsize.</summary>
    public override string ToString() => $"{Name}+0x{Offset:x}/0x{Size:x}";
}
