namespace VmDebug.Engine.ProcessCore;

/// <summary>A RAM block besides guest RAM (firmware ROM, video RAM) and where the guest sees it.</summary>
internal readonly record struct DeviceMemoryBlock(string Name, ulong GuestPhysical, ulong Length, CoreSegment Segment)
{
    public ulong End => GuestPhysical + Length;
}
