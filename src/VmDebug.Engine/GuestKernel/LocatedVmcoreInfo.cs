using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.GuestKernel;

/// <summary>A VMCOREINFO note found in guest RAM and checked against the guest's own memory.</summary>
public sealed record LocatedVmcoreInfo(ElfNote Note, VmcoreInfo Info, ulong PhysicalAddress);
