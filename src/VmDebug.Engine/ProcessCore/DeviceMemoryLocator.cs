using System.Buffers.Binary;
using System.Globalization;

namespace VmDebug.Engine.ProcessCore;

/// <summary>
/// Places the RAM blocks QEMU's own dump holds besides guest RAM, without QEMU's symbols. QEMU dumps every RAM
/// (and ROM) region mapped into guest-physical space (softmmu/memory_mapping.c guest_phys_blocks_region_add skips
/// only MMIO, ram_device and non-volatile regions). On pc/q35 with SeaBIOS these are the BIOS ROM at the top of 4 GiB
/// and the display's video RAM at its PCI BAR. Option ROMs are mapped only while a ROM BAR is enabled, which
/// SeaBIOS undoes after copying them, and the ROMs below 1 MiB are shadowed by RAM (PAM), so they read as guest RAM.
/// A block is placed only when its mapping is unique by size; anything else is left out and named in a warning.
/// </summary>
internal static class DeviceMemoryLocator
{
    private const ulong FourGiB = 1UL << 32;
    private const ulong MiB = 1UL << 20;

    // qemu_anon_ram_alloc (util/oslib-posix.c) maps RAM blocks at QEMU_VMALLOC_ALIGN, 2 MiB on x86_64 Linux hosts.
    private const ulong RamBlockAlignment = 2 * MiB;

    // SeaBIOS's image for pc and q35 (hw/i386/x86.c x86_bios_rom_init: bios_name defaults to "bios-256k.bin").
    private const string DefaultBios = "bios-256k.bin";
    private const ulong DefaultBiosBytes = 256 * 1024;
    private static readonly string[] FirmwareDirectories = ["/usr/share/qemu", "/usr/share/seabios"];

    private const long MaxScanBytes = 512L << 20;
    private const int PciConfigBytes = 64;

    /// <summary>Display devices whose video RAM is PCI BAR 0 (hw/display/vga-pci.c, virtio-vga.c, bochs-display.c).</summary>
    private static readonly DisplayDevice[] Displays =
    [
        new("VGA", 0x1234, 0x1111, 0x0300),
        new("secondary-vga", 0x1234, 0x1111, 0x0380),
        new("bochs-display", 0x1234, 0x1111, 0x0380),
        new("virtio-vga", 0x1af4, 0x1050, 0x0300),
    ];

    /// <summary>Displays QEMU dumps whose blocks do not sit at one BAR as a whole (several BARs, or VRAM inside a bigger BAR).</summary>
    private static readonly (string Name, ushort Vendor, ushort Device)[] UnplaceableDisplays =
    [
        ("qxl-vga/qxl", 0x1b36, 0x0100),
        ("cirrus-vga", 0x1013, 0x00b8),
        ("vmware-svga", 0x15ad, 0x0405),
    ];

    private sealed record DisplayDevice(string Driver, ushort Vendor, ushort Device, ushort ClassCode);

    public static List<DeviceMemoryBlock> Locate(ProcessCoreFile core, SparseFile captured, QemuCommandLine commandLine, CoreSegment ram,
        GuestMemoryLayout layout, List<string> warnings, CancellationToken cancellationToken)
    {
        var blocks = new List<DeviceMemoryBlock>();
        if (commandLine.Family == QemuMachineFamily.Unknown)
        {
            return blocks;
        }
        var anonymous = core.Segments
            .Where(s => s.VirtualAddress != ram.VirtualAddress && s.IsReadWrite && (s.Flags & CoreSegment.Execute) == 0
                && s.VirtualAddress % RamBlockAlignment == 0 && s.FileSize == s.MemorySize && s.FileSize > 0
                && core.MappedFileName(s.VirtualAddress) is null)
            .ToList();

        // pflash firmware is a ROM device (hw/block/pflash_cfi01.c), not a RAM region: QEMU's dump leaves it out too.
        if (!commandLine.HasPflash)
        {
            var size = BiosBytes(commandLine.Bios);
            Place("pc.bios", FourGiB - size, size, anonymous, blocks, warnings);
        }

        foreach (var display in FindDisplays(core, captured, ram, warnings, cancellationToken))
        {
            var vram = VideoRamBytes(commandLine, display.Device.Driver);
            if (vram is null)
            {
                warnings.Add($"The video RAM of {display.Device.Driver} at 0x{display.Bar:x} is left out: its size on QEMU's command line is not readable.");
                continue;
            }
            Place($"{display.Device.Driver} video RAM", display.Bar, vram.Value, anonymous, blocks, warnings);
        }

        // A block must not overlap guest RAM or another block; otherwise the placement is wrong, so drop it.
        var placed = new List<DeviceMemoryBlock>();
        foreach (var block in blocks.OrderBy(b => b.GuestPhysical))
        {
            var clash = layout.Ranges.Any(r => r.GuestPhysical < block.End && block.GuestPhysical < r.End)
                || placed.Any(p => p.GuestPhysical < block.End && block.GuestPhysical < p.End);
            if (clash)
            {
                warnings.Add($"{block.Name} at 0x{block.GuestPhysical:x} would overlap guest RAM or another block; it is left out.");
                continue;
            }
            placed.Add(block);
        }
        return placed;
    }

    private static void Place(string name, ulong guestPhysical, ulong size, List<CoreSegment> anonymous, List<DeviceMemoryBlock> blocks, List<string> warnings)
    {
        var candidates = anonymous.Where(s => s.MemorySize == size).ToList();
        if (candidates.Count == 1)
        {
            blocks.Add(new DeviceMemoryBlock(name, guestPhysical, size, candidates[0]));
            anonymous.Remove(candidates[0]);
            return;
        }
        warnings.Add(candidates.Count == 0
            ? $"{name} ({Units.FormatBytes((long)size)} at 0x{guestPhysical:x}) is left out: no mapping of that size is in the core."
            : $"{name} ({Units.FormatBytes((long)size)} at 0x{guestPhysical:x}) is left out: {candidates.Count} mappings have that size and VmDebug does not guess.");
    }

    /// <summary>The BIOS ROM's size: the firmware file's, as QEMU loads it (page-rounded, the mapping's size).</summary>
    private static ulong BiosBytes(string? bios)
    {
        var name = bios ?? DefaultBios;
        var candidates = Path.IsPathRooted(name) ? [name] : FirmwareDirectories.Select(d => Path.Combine(d, name));
        foreach (var path in candidates)
        {
            try
            {
                var info = new FileInfo(path);
                if (info.Exists && info.Length > 0 && info.Length <= 16L << 20)
                {
                    return ((ulong)info.Length + 4095) / 4096 * 4096;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                break;
            }
        }
        return DefaultBiosBytes;
    }

    /// <summary>vgamem_mb of the device (or its -global), default 16 MiB (hw/display/vga-pci.c, virtio-vga.c).</summary>
    private static ulong? VideoRamBytes(QemuCommandLine commandLine, string driver)
    {
        var devices = commandLine.Devices.Where(d => d.GetValueOrDefault("driver") == driver).ToList();
        var values = devices.Select(d => d.GetValueOrDefault("vgamem_mb")).Distinct().ToList();
        if (values.Count > 1)
        {
            return null;
        }
        var text = values.FirstOrDefault() ?? commandLine.Globals.GetValueOrDefault($"{driver}.vgamem_mb");
        if (text is null)
        {
            return 16 * MiB;
        }
        return uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var mb) && mb is > 0 and <= 512 ? mb * MiB : null;
    }

    private readonly record struct FoundDisplay(DisplayDevice Device, ulong Bar);

    /// <summary>
    /// Display devices by their PCI configuration space in QEMU's heap (PCIDevice.config, g_malloc'ed, so 16-byte
    /// aligned): vendor, device, class, header type 0, memory decoding on, BAR 0 a memory BAR. QEMU maps a BAR exactly
    /// when these bytes say so (hw/pci/pci.c pci_update_mappings), so they are the guest's own view.
    /// </summary>
    private static List<FoundDisplay> FindDisplays(ProcessCoreFile core, SparseFile captured, CoreSegment ram, List<string> warnings,
        CancellationToken cancellationToken)
    {
        var found = new HashSet<FoundDisplay>();
        var unplaceable = new HashSet<string>();
        var romBars = new HashSet<string>();
        long scanned = 0;
        foreach (var segment in core.Segments)
        {
            if (segment.VirtualAddress == ram.VirtualAddress || !segment.IsReadWrite || (segment.Flags & CoreSegment.Execute) != 0
                || segment.FileSize == 0 || segment.FileSize > 64 * MiB || core.MappedFileName(segment.VirtualAddress) is not null)
            {
                continue;
            }
            foreach (var extent in captured.DataExtents(segment.FileOffset, segment.FileOffset + (long)segment.FileSize, cancellationToken))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if ((scanned += extent.End - extent.Start) > MaxScanBytes)
                {
                    break;
                }
                var bytes = new byte[extent.End - extent.Start];
                captured.Read(extent.Start, bytes);
                for (var at = (int)((16 - (extent.Start - segment.FileOffset) % 16) % 16); at + PciConfigBytes <= bytes.Length; at += 16)
                {
                    var config = bytes.AsSpan(at, PciConfigBytes);
                    var vendor = BinaryPrimitives.ReadUInt16LittleEndian(config);
                    var device = BinaryPrimitives.ReadUInt16LittleEndian(config[2..]);
                    var classCode = BinaryPrimitives.ReadUInt16LittleEndian(config[10..]);
                    if ((classCode >> 8) != 0x03 || (config[14] & 0x7f) != 0)
                    {
                        continue;
                    }
                    if (UnplaceableDisplays.FirstOrDefault(d => d.Vendor == vendor && d.Device == device) is { Name: not null } other)
                    {
                        unplaceable.Add(other.Name);
                        continue;
                    }
                    var display = Displays.FirstOrDefault(d => d.Vendor == vendor && d.Device == device && d.ClassCode == classCode);
                    var command = BinaryPrimitives.ReadUInt16LittleEndian(config[4..]);
                    var bar0 = BinaryPrimitives.ReadUInt32LittleEndian(config[0x10..]);
                    if (display is null || (command & 0x2) == 0 || (bar0 & 0x1) != 0)
                    {
                        continue;
                    }
                    ulong address = bar0 & ~0xfu;
                    if ((bar0 & 0x6) == 0x4)
                    {
                        address |= (ulong)BinaryPrimitives.ReadUInt32LittleEndian(config[0x14..]) << 32;
                    }
                    if (address == 0 || address % MiB != 0)
                    {
                        continue;
                    }
                    found.Add(new FoundDisplay(display, address));
                    if ((BinaryPrimitives.ReadUInt32LittleEndian(config[0x30..]) & 1) != 0)
                    {
                        romBars.Add(display.Driver);
                    }
                }
            }
        }
        foreach (var name in unplaceable)
        {
            warnings.Add($"The video memory of the {name} display is left out: VmDebug cannot place its blocks from a process core.");
        }
        foreach (var name in romBars)
        {
            warnings.Add($"The option ROM of {name} is mapped by the guest (ROM BAR enabled) and is left out: its mapping cannot be told apart from other 64 KiB blocks.");
        }
        var byDevice = found.GroupBy(f => f.Device.Driver).ToList();
        var result = new List<FoundDisplay>();
        foreach (var group in byDevice)
        {
            if (group.Count() == 1)
            {
                result.Add(group.First());
            }
            else
            {
                warnings.Add($"The video RAM of {group.Key} is left out: {group.Count()} such devices are configured ({string.Join(", ", group.Select(g => $"0x{g.Bar:x}"))}) and their mappings cannot be told apart.");
            }
        }
        return result;
    }
}
