using VmDebug.Engine.ProcessCore;

namespace VmDebug.Engine.Pstore;

/// <summary>
/// Picks (or checks) where the ramoops region goes: inside RAM the guest's e820 map leaves usable, below 4 GiB,
/// three quarters into the largest such range, 1 MiB aligned: above the kernel image (x86 loads it at 16 MiB) and
/// below the top of low RAM, where QEMU's loader puts the initrd (idea: both from the x86 boot protocol's usual
/// placement). Without a running guest the map is modelled from the memory size and QEMU's pc/q35 layout: usable
/// [1 MiB, top of low RAM - 1 MiB), the firmware reserving below 1 MiB and the last pages.
/// </summary>
internal static class PstoreAddressChooser
{
    private const ulong MiB = 1 << 20;
    private const ulong FourGiB = 4UL << 30;

    public static (ulong Address, PstoreAddressSource Source, string Reason) Choose(ulong size, ulong? requested, IReadOnlyList<E820Range>? e820,
        ulong? ramBytes, string? machine, string target)
    {
        var (usable, mapFrom, source) = UsableRanges(e820, ramBytes, machine, target);
        if (requested is { } address)
        {
            if (address % 4096 != 0)
            {
                throw Unusable(target, $"the address 0x{address:x} is not 4 KiB aligned (memmap= reserves whole pages)");
            }
            var inside = usable.FirstOrDefault(r => address >= r.First && address <= r.Last && size - 1 <= r.Last - address);
            if (inside is null)
            {
                throw Unusable(target, $"0x{address:x}+0x{size:x} is not inside RAM the guest can use ({mapFrom}: {Describe(usable)})");
            }
            return (address, PstoreAddressSource.Parameter, $"0x{address:x} as given; it lies in usable RAM {Describe(inside)} ({mapFrom}).");
        }
        var candidates = usable.Where(r => r.Last < FourGiB && r.Last - r.First + 1 >= size + 16 * MiB).ToList();
        if (candidates.Count == 0)
        {
            throw Unusable(target, $"no usable RAM range below 4 GiB holds 0x{size:x} bytes with room to spare ({mapFrom}: {Describe(usable)})");
        }
        var largest = candidates.MaxBy(r => r.Last - r.First)!;
        var length = largest.Last - largest.First + 1;
        var chosen = (largest.First + (length - size) / 4 * 3) & ~(MiB - 1);
        if (chosen < largest.First)
        {
            chosen = largest.First;
        }
        return (chosen, source,
            $"0x{chosen:x}: three quarters into {Describe(largest)}, the largest usable RAM range below 4 GiB ({mapFrom}), 1 MiB aligned, "
            + "clear of the kernel image low in RAM and of the initrd QEMU loads at the top of low RAM.");
    }

    private static (IReadOnlyList<E820Range> Usable, string From, PstoreAddressSource Source) UsableRanges(IReadOnlyList<E820Range>? e820, ulong? ramBytes,
        string? machine, string target)
    {
        if (e820 is { Count: > 0 })
        {
            return (e820.Where(r => r.Type == "usable").ToList(), "the running guest's e820 map", PstoreAddressSource.E820);
        }
        if (ramBytes is not { } ram || ram == 0)
        {
            throw Unusable(target, "the domain gives no memory size and no running guest's e820 map is at hand");
        }
        var family = QemuCommandLine.FamilyOf(machine ?? "pc");
        if (family == QemuMachineFamily.Unknown)
        {
            throw Unusable(target, $"the machine type '{machine}' has no known RAM layout (pc/i440fx and q35 have); give -Address");
        }
        var layout = GuestMemoryLayout.ForMachine(family, ram, null, gigabyteAlign: true, machine ?? "pc");
        var low = layout.Ranges[0];
        if (low.End <= 2 * MiB)
        {
            throw Unusable(target, $"the guest has only {low.End} bytes of low RAM");
        }
        return ([new E820Range(MiB, low.End - MiB - 1, "usable")],
            $"modelled from {layout.Description} (QEMU's {family} layout; the domain is not running, so its e820 map was not read)",
            PstoreAddressSource.MemoryLayout);
    }

    private static string Describe(IEnumerable<E820Range> ranges) => string.Join(", ", ranges.Select(Describe));

    private static string Describe(E820Range range) => $"[mem 0x{range.First:x}-0x{range.Last:x}]";

    private static PstoreException Unusable(string target, string why) =>
        new(PstoreException.AddressUnusable, ErrorKind.InvalidArgument, target, $"cannot place the ramoops region: {why}.");
}
