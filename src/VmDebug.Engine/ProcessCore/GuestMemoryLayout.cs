using System.Globalization;

namespace VmDebug.Engine.ProcessCore;

/// <summary>
/// Where QEMU places its RAM block in guest-physical space. pc_memory_init (hw/i386/pc.c) maps RAM [0, below_4g)
/// at guest-physical 0 and RAM [below_4g, ram_size) at 4 GiB; the machine init decides below_4g.
/// </summary>
public sealed class GuestMemoryLayout
{
    private const ulong GiB = 1UL << 30;
    private const ulong FourGiB = 4 * GiB;

    /// <summary>
    /// Start of AMD's HyperTransport hole (1 TiB - 12 GiB). QEMU 7.1+ moves above-4G RAM to 1 TiB when it would reach
    /// this on an AMD CPU (pc.c, pc_memory_init: enforce_amd_1tb_hole); the CPU vendor is not in the core, so such
    /// sizes need an explicit layout.
    /// </summary>
    private const ulong AmdHyperTransportStart = 0xfd00000000;

    public GuestMemoryLayout(IReadOnlyList<GuestRamRange> ranges, string description, ulong? ramMappingAddress = null)
    {
        Ranges = ranges;
        Description = description;
        RamMappingAddress = ramMappingAddress;
        RamBytes = ranges.Count == 0 ? 0 : ranges.Max(r => r.RamOffset + r.Length);
    }

    /// <summary>Sorted by guest-physical address, non-overlapping.</summary>
    public IReadOnlyList<GuestRamRange> Ranges { get; }

    /// <summary>Size the RAM mapping in the core must have.</summary>
    public ulong RamBytes { get; }

    /// <summary>Host virtual address of the RAM mapping, when the user named it (ram=0x...).</summary>
    public ulong? RamMappingAddress { get; }

    public string Description { get; }

    /// <summary>
    /// pc (i440fx), hw/i386/pc_piix.c pc_init1: max-ram-below-4g defaults to 0xe0000000 (3.5 GiB); when RAM reaches it,
    /// gigabyte-aligned machine types (2.0+) cap the low part at 0xc0000000 (3 GiB) and the rest goes above 4 GiB.
    /// q35, hw/i386/pc_q35.c pc_q35_init: low part 0x80000000 (2 GiB) when RAM >= 0xb0000000, else up to 0xb0000000;
    /// then capped by max-ram-below-4g when that is given.
    /// </summary>
    public static GuestMemoryLayout ForMachine(QemuMachineFamily family, ulong ramBytes, ulong? maxRamBelow4G, bool gigabyteAlign, string machineName)
    {
        ulong below;
        switch (family)
        {
            case QemuMachineFamily.I440fx:
                {
                    var lowmem = maxRamBelow4G is > 0 ? maxRamBelow4G.Value : 0xe0000000;
                    if (ramBytes >= lowmem)
                    {
                        if (gigabyteAlign && lowmem > 0xc0000000)
                        {
                            lowmem = 0xc0000000;
                        }
                        below = lowmem;
                    }
                    else
                    {
                        below = ramBytes;
                    }
                    break;
                }
            case QemuMachineFamily.Q35:
                {
                    ulong lowmem = ramBytes >= 0xb0000000 ? 0x80000000 : 0xb0000000;
                    if (maxRamBelow4G is > 0 && lowmem > maxRamBelow4G.Value)
                    {
                        lowmem = maxRamBelow4G.Value;
                    }
                    below = Math.Min(ramBytes, lowmem);
                    break;
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(family), family, "no layout rule for this machine family");
        }
        var ranges = new List<GuestRamRange> { new(0, below, 0) };
        if (ramBytes > below)
        {
            ranges.Add(new GuestRamRange(FourGiB, ramBytes - below, below));
        }
        var above = ramBytes - below;
        var description = above > 0
            ? $"{machineName}: {Units.FormatBytes((long)below)} at 0, {Units.FormatBytes((long)above)} at 4 GiB"
            : $"{machineName}: {Units.FormatBytes((long)below)} at 0";
        return new GuestMemoryLayout(ranges, description);
    }

    /// <summary>True when QEMU might have moved the above-4G RAM past AMD's HyperTransport hole.</summary>
    public bool MayCrossAmdHole => Ranges.Count > 0 && Ranges[^1].End > AmdHyperTransportStart;

    /// <summary>
    /// Parses -GuestMemoryLayout: a machine family ("q35", "pc"/"i440fx"), or explicit ranges
    /// "GPA_START-GPA_END@RAM_OFFSET" (END inclusive, hex with 0x or decimal) separated by commas; either may be
    /// followed by ",ram=0xHOSTADDR" to pick the RAM mapping when several have the size. Returns the family (or
    /// Unknown for explicit ranges) and, for explicit ranges, the layout.
    /// </summary>
    public static (QemuMachineFamily Family, GuestMemoryLayout? Explicit, ulong? RamAddress) ParseOverride(string text, string corePath)
    {
        var family = QemuMachineFamily.Unknown;
        ulong? ramAddress = null;
        var ranges = new List<GuestRamRange>();
        foreach (var raw in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (raw.StartsWith("ram=", StringComparison.OrdinalIgnoreCase))
            {
                ramAddress = ParseNumber(raw[4..]) ?? throw Invalid(text, corePath, $"'{raw}' is not ram=ADDRESS");
                continue;
            }
            var at = raw.IndexOf('@');
            var dash = raw.IndexOf('-');
            if (at > 0 && dash > 0 && dash < at)
            {
                var start = ParseNumber(raw[..dash]);
                var end = ParseNumber(raw[(dash + 1)..at]);
                var offset = ParseNumber(raw[(at + 1)..]);
                if (start is null || end is null || offset is null || end < start || end == ulong.MaxValue
                    || offset > ulong.MaxValue - (end.Value - start.Value + 1))
                {
                    throw Invalid(text, corePath, $"'{raw}' is not START-END@RAMOFFSET");
                }
                ranges.Add(new GuestRamRange(start.Value, end.Value - start.Value + 1, offset.Value));
                continue;
            }
            var named = raw.Equals("i440fx", StringComparison.OrdinalIgnoreCase) ? QemuMachineFamily.I440fx : QemuCommandLine.FamilyOf(raw);
            if (named == QemuMachineFamily.Unknown || family != QemuMachineFamily.Unknown)
            {
                throw Invalid(text, corePath, $"'{raw}' is neither q35, pc, a range START-END@RAMOFFSET nor ram=ADDRESS");
            }
            family = named;
        }
        if (ranges.Count > 0 && family != QemuMachineFamily.Unknown)
        {
            throw Invalid(text, corePath, "give either a machine type or explicit ranges, not both");
        }
        if (ranges.Count == 0)
        {
            return (family, null, ramAddress);
        }
        ranges.Sort((a, b) => a.GuestPhysical.CompareTo(b.GuestPhysical));
        for (var i = 1; i < ranges.Count; i++)
        {
            if (ranges[i].GuestPhysical < ranges[i - 1].End)
            {
                throw Invalid(text, corePath, "the ranges overlap");
            }
        }
        return (family, new GuestMemoryLayout(ranges, $"explicit: {text}", ramAddress), ramAddress);
    }

    private static ProcessCoreException Invalid(string text, string corePath, string reason) =>
        new(ProcessCoreException.LayoutInvalid, ErrorKind.InvalidArgument, corePath,
            $"The guest memory layout '{text}' is invalid: {reason}. Examples: 'q35', 'pc', '0x0-0x7fffffff@0,0x100000000-0x13fffffff@0x80000000', 'q35,ram=0x7f0000000000'.");

    private static ulong? ParseNumber(string text)
    {
        text = text.Trim();
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex) ? hex : null;
        }
        return ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
    }

    public override string ToString() => Description;
}
