using VmDebug.Engine.ProcessCore;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.GuestKernel;

/// <summary>The ranges a live read may touch: guest RAM minus the legacy VGA/ROM window, which may be device memory.</summary>
internal static class LiveRamRanges
{
    private const ulong LegacyWindowStart = 0xa0000, LegacyWindowEnd = 0x100000;

    public static PhysicalRange[] From(GuestMemoryLayout layout)
    {
        var ranges = new List<PhysicalRange>();
        foreach (var r in layout.Ranges)
        {
            if (r.GuestPhysical < LegacyWindowStart && r.End > LegacyWindowEnd)
            {
                ranges.Add(new PhysicalRange(r.GuestPhysical, LegacyWindowStart - r.GuestPhysical));
                ranges.Add(new PhysicalRange(LegacyWindowEnd, r.End - LegacyWindowEnd));
            }
            else
            {
                ranges.Add(new PhysicalRange(r.GuestPhysical, r.Length));
            }
        }
        return ranges.ToArray();
    }
}
