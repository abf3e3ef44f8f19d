namespace VmDebug.Engine.Vmcore;

/// <summary>A contiguous run of guest-physical memory present in a source.</summary>
public readonly record struct PhysicalRange(ulong Start, ulong Length)
{
    public ulong End => Start + Length;
}
