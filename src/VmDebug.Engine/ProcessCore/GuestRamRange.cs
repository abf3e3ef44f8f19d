namespace VmDebug.Engine.ProcessCore;

/// <summary>A run of guest-physical memory backed by guest RAM at <see cref="RamOffset"/> in QEMU's RAM block.</summary>
public readonly record struct GuestRamRange(ulong GuestPhysical, ulong Length, ulong RamOffset)
{
    public ulong End => GuestPhysical + Length;
}
