using System.Globalization;

namespace VmDebug.Engine.Pstore;

/// <summary>
/// Where ramoops keeps its zones and how large each is: the module parameters (ramoops.mem_address, mem_size,
/// record_size, console_size, ftrace_size, pmsg_size, ecc), with the kernel's defaults and its carving of the region
/// (torvalds/linux fs/pstore/ram.c, ramoops_probe and ramoops_init_przs): dmesg zones first, then console, the
/// per-CPU ftrace zones and pmsg.
/// </summary>
public sealed record PstoreLayout
{
    /// <summary>MIN_MEM_SIZE of ram.c: the default of record_size, console_size, ftrace_size and pmsg_size.</summary>
    public const ulong DefaultZoneSize = 4096;

    /// <summary>Largest region read; ramoops regions are kilobytes to a few megabytes.</summary>
    public const ulong MaxMemSize = 1UL << 30;

    /// <summary>Most dmesg zones accepted (the kernel allows more; nobody reserves that many).</summary>
    public const int MaxDmesgZones = 4096;

    /// <summary>Most CPUs (ftrace zones) accepted.</summary>
    public const int MaxCpus = 8192;

    /// <summary>sizeof(struct persistent_ram_buffer): sig, start, size.</summary>
    public const int HeaderSize = 12;

    public required ulong MemAddress { get; init; }
    public required ulong MemSize { get; init; }
    public ulong RecordSize { get; init; } = DefaultZoneSize;
    public ulong ConsoleSize { get; init; } = DefaultZoneSize;
    public ulong FtraceSize { get; init; } = DefaultZoneSize;
    public ulong PmsgSize { get; init; } = DefaultZoneSize;

    /// <summary>Reed-Solomon parity bytes per 128-byte block; 0: no ECC (ramoops.ecc=1 means 16).</summary>
    public int EccSize { get; init; }

    /// <summary>
    /// Zone sizes of a shared area rounded down to even, as kernels since the ALIGN_DOWN(zone_sz, 2) fix of
    /// ramoops_init_przs do (upstream and its stable backports, Debian's 6.1 among them); false for older kernels.
    /// </summary>
    public bool EvenZoneSizes { get; init; } = true;

    /// <summary>nr_cpu_ids of the guest: the module-parameter path splits the ftrace area into one zone per CPU.</summary>
    public int Cpus { get; init; } = 1;

    /// <summary>The ramoops.* words of a kernel command line; null when it sets no mem_size or no mem_address (no region).</summary>
    public static PstoreLayout? FromCommandLine(string commandLine, int cpus, ICollection<string> warnings)
    {
        var values = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var word in commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!word.StartsWith("ramoops.", StringComparison.Ordinal) || word.IndexOf('=') is var eq && eq < 0)
            {
                continue;
            }
            var name = word["ramoops.".Length..eq];
            var text = word[(eq + 1)..];
            if (TryParseKernelInteger(text, out var value))
            {
                values[name] = value; // the last occurrence wins, as in the kernel's parser
            }
            else
            {
                warnings.Add($"ramoops.{name}={text} on the guest's command line is not an integer the kernel accepts (it ignored it too).");
            }
        }
        if (!values.TryGetValue("mem_size", out var memSize) || memSize == 0 || !values.TryGetValue("mem_address", out var memAddress))
        {
            return null;
        }
        var ecc = values.GetValueOrDefault("ecc");
        return new PstoreLayout
        {
            MemAddress = memAddress,
            MemSize = memSize,
            RecordSize = values.GetValueOrDefault("record_size", DefaultZoneSize),
            ConsoleSize = values.GetValueOrDefault("console_size", DefaultZoneSize),
            FtraceSize = values.GetValueOrDefault("ftrace_size", DefaultZoneSize),
            PmsgSize = values.GetValueOrDefault("pmsg_size", DefaultZoneSize),
            EccSize = ecc == 1 ? 16 : (int)Math.Min(ecc, int.MaxValue),
            Cpus = cpus,
        };
    }

    /// <summary>kstrtoul with base 0, as module parameters are parsed: decimal, 0x hex or leading-0 octal, no suffix.</summary>
    public static bool TryParseKernelInteger(string text, out ulong value)
    {
        value = 0;
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return text.Length > 2 && ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        }
        if (text.Length > 1 && text[0] == '0')
        {
            try
            {
                value = Convert.ToUInt64(text[1..], 8);
                return true;
            }
            catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
            {
                return false;
            }
        }
        return text.Length > 0 && text.All(char.IsAsciiDigit) && ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>The zones the kernel carves out of the region, in address order; throws when they cannot fit.</summary>
    internal IReadOnlyList<PstoreZoneSpec> Zones(string source)
    {
        Invalid(MemSize == 0 || MemSize > MaxMemSize, $"mem_size 0x{MemSize:x} is outside 1 byte … 0x{MaxMemSize:x}");
        Invalid(MemAddress > ulong.MaxValue - MemSize, $"mem_address 0x{MemAddress:x} + mem_size overflows");
        Invalid(Cpus is < 1 or > MaxCpus, $"the CPU count {Cpus} is outside 1 … {MaxCpus}");
        Invalid(EccSize is < 0 or > 255, $"ecc {EccSize} is outside 0 … 255 parity bytes");
        // ramoops_probe rounds each size down to a power of two.
        var record = RoundDown(RecordSize);
        var console = RoundDown(ConsoleSize);
        var ftrace = RoundDown(FtraceSize);
        var pmsg = RoundDown(PmsgSize);
        Invalid(record == 0 && console == 0 && ftrace == 0 && pmsg == 0, "record, console, ftrace and pmsg sizes are all 0");
        Invalid(console > MemSize || ftrace > MemSize - console || pmsg > MemSize - console - ftrace,
            $"console, ftrace and pmsg (0x{console:x}+0x{ftrace:x}+0x{pmsg:x}) do not fit in mem_size 0x{MemSize:x}");
        var zones = new List<PstoreZoneSpec>();
        var address = MemAddress;
        var dumpBytes = MemSize - console - ftrace - pmsg;
        if (dumpBytes > 0 && record > 0)
        {
            var count = dumpBytes / record;
            Invalid(count == 0, $"no dmesg zone of 0x{record:x} bytes fits in the 0x{dumpBytes:x} bytes left for them");
            Invalid(count > MaxDmesgZones, $"{count} dmesg zones is more than {MaxDmesgZones}");
            var zoneSize = EvenZones(dumpBytes / count); // ramoops_init_przs: the zones share the area, each mem_sz / cnt
            for (var i = 0; i < (int)count; i++)
            {
                zones.Add(new PstoreZoneSpec(PstoreKind.Dmesg, i, address, zoneSize, 0));
                address += zoneSize;
            }
        }
        if (console > 0)
        {
            zones.Add(new PstoreZoneSpec(PstoreKind.Console, 0, address, console, 0));
            address += console;
        }
        if (ftrace > 0)
        {
            var zoneSize = EvenZones(ftrace / (ulong)Cpus);
            Invalid(zoneSize == 0, $"ftrace_size 0x{ftrace:x} split over {Cpus} CPUs leaves 0 bytes a zone");
            for (var cpu = 0; cpu < Cpus; cpu++)
            {
                // The ftrace zones' signature is XORed with LINUX_VERSION_CODE, which the reader accepts in any plausible form.
                zones.Add(new PstoreZoneSpec(PstoreKind.Ftrace, cpu, address, zoneSize, null));
                address += zoneSize;
            }
        }
        if (pmsg > 0)
        {
            zones.Add(new PstoreZoneSpec(PstoreKind.Pmsg, 0, address, pmsg, 0));
        }
        foreach (var zone in zones)
        {
            Invalid(zone.Size <= (ulong)HeaderSize + (ulong)EccSize * 2,
                $"the {zone.Kind} zone of 0x{zone.Size:x} bytes is too small for its header and parity");
        }
        return zones;

        void Invalid(bool condition, string why)
        {
            if (condition)
            {
                throw new PstoreException(PstoreException.LayoutInvalid, ErrorKind.InvalidArgument, source, $"the ramoops layout is impossible: {why}.");
            }
        }
    }

    /// <summary>The layout as kernel parameters, as they would appear on a command line.</summary>
    public override string ToString() =>
        $"ramoops.mem_address=0x{MemAddress:x} ramoops.mem_size=0x{MemSize:x} ramoops.record_size=0x{RecordSize:x} "
        + $"ramoops.console_size=0x{ConsoleSize:x} ramoops.ftrace_size=0x{FtraceSize:x} ramoops.pmsg_size=0x{PmsgSize:x} ramoops.ecc={EccSize}";

    private ulong EvenZones(ulong size) => EvenZoneSizes ? size & ~1UL : size;

    private static ulong RoundDown(ulong value) => value == 0 ? 0 : 1UL << (63 - System.Numerics.BitOperations.LeadingZeroCount(value));
}
