using System.Globalization;
using System.Text.Json;

namespace VmDebug.Engine.ProcessCore;

/// <summary>
/// What QEMU's argv says about guest RAM: -m (size, slots, maxmem), -machine (type, memory-backend,
/// max-ram-below-4g), -object memory-backend-* (key=value or JSON form, as libvirt writes it), -mem-path, and the
/// options that add RAM this layout does not model (NUMA memdevs, DIMMs, virtio-mem).
/// </summary>
internal sealed class QemuCommandLine
{
    /// <summary>RAM without -m: MachineClass default_ram_size, 128 MiB for the pc machines (hw/i386/pc.c).</summary>
    public const ulong DefaultRamBytes = 128UL << 20;

    private QemuCommandLine()
    {
    }

    public string? MachineType { get; private set; }
    public ulong? MemoryOptionBytes { get; private set; }
    public string? MemoryBackendId { get; private set; }
    public ulong? MaxRamBelow4G { get; private set; }
    public string? MemPath { get; private set; }
    public Dictionary<string, MemoryBackendObject> Backends { get; } = new(StringComparer.Ordinal);

    /// <summary>-device options as property maps ("driver" included), key=value or JSON form.</summary>
    public List<Dictionary<string, string>> Devices { get; } = [];

    /// <summary>-global DRIVER.PROPERTY=VALUE, keyed "DRIVER.PROPERTY".</summary>
    public Dictionary<string, string> Globals { get; } = new(StringComparer.Ordinal);

    /// <summary>-machine dump-guest-core=on|off; null when not given (QEMU's default is on, libvirt passes off unless configured).</summary>
    public bool? DumpGuestCore { get; private set; }

    /// <summary>-bios FILE; null for the machine's default firmware.</summary>
    public string? Bios { get; private set; }

    /// <summary>Firmware comes from pflash drives (-drive if=pflash, -machine pflash0=...) instead of a BIOS ROM.</summary>
    public bool HasPflash { get; private set; }

    /// <summary>Options that put RAM outside the machine's main block (the reason the layout would be incomplete).</summary>
    public List<string> UnmodelledMemory { get; } = [];

    /// <summary>Problems parsing values this layout needs.</summary>
    public List<string> Errors { get; } = [];

    /// <summary>Backends named by -numa node,memdev=ID, one per node.</summary>
    public List<string> NumaMemdevs { get; } = [];

    /// <summary>
    /// The backend of the machine's RAM: -machine memory-backend=, or the memdev of a single NUMA node (QEMU then maps
    /// that backend as the machine's RAM, hw/core/numa.c numa_complete_configuration).
    /// </summary>
    public MemoryBackendObject? MachineBackend =>
        (MemoryBackendId ?? (NumaMemdevs.Count == 1 ? NumaMemdevs[0] : null)) is { } id && Backends.TryGetValue(id, out var backend) ? backend : null;

    /// <summary>Guest RAM size: the machine's memory backend, else -m, else the machine default.</summary>
    public ulong RamBytes => MachineBackend?.Size ?? MemoryOptionBytes ?? DefaultRamBytes;

    /// <summary>
    /// The machine family. qemu-system-x86_64's default machine (no -machine) is "pc" (pc_piix.c marks the
    /// newest pc-i440fx type is_default).
    /// </summary>
    public QemuMachineFamily Family => FamilyOf(MachineType ?? "pc");

    /// <summary>pc-i440fx types from 2.0 on align the below-4G split to a gigabyte (pc_piix.c: gigabyte_align, off in 1.7 and older).</summary>
    public bool GigabyteAlign => !IsLegacyI440fx(MachineType ?? "pc");

    public static QemuMachineFamily FamilyOf(string machine)
    {
        machine = machine.Trim().ToLowerInvariant();
        if (machine == "q35" || machine.StartsWith("pc-q35-", StringComparison.Ordinal))
        {
            return QemuMachineFamily.Q35;
        }
        if (machine == "pc" || machine.StartsWith("pc-i440fx-", StringComparison.Ordinal) || IsLegacyI440fx(machine))
        {
            return QemuMachineFamily.I440fx;
        }
        return QemuMachineFamily.Unknown;
    }

    private static bool IsLegacyI440fx(string machine) =>
        machine.StartsWith("pc-0.", StringComparison.Ordinal) || machine.StartsWith("pc-1.", StringComparison.Ordinal)
        || machine.StartsWith("pc-i440fx-1.", StringComparison.Ordinal);

    public static QemuCommandLine Parse(IReadOnlyList<string> argv)
    {
        var line = new QemuCommandLine();
        for (var i = 1; i < argv.Count; i++)
        {
            var option = argv[i];
            if (!option.StartsWith('-'))
            {
                continue;
            }
            var name = option.TrimStart('-');
            string Next() => i + 1 < argv.Count ? argv[++i] : "";
            switch (name)
            {
                case "m":
                    line.ParseMemory(Next());
                    break;
                case "machine" or "M":
                    line.ParseMachine(Next());
                    break;
                case "object":
                    line.ParseObject(Next());
                    break;
                case "mem-path":
                    line.MemPath = Next();
                    break;
                case "bios":
                    line.Bios = Next();
                    break;
                case "drive":
                    var drive = Next();
                    line.HasPflash |= SplitOptions(drive, "file").Any(o => o.Key == "if" && o.Value == "pflash");
                    break;
                case "global":
                    var global = Next();
                    var eq = global.IndexOf('=');
                    if (eq > 0)
                    {
                        line.Globals[global[..eq]] = global[(eq + 1)..];
                    }
                    break;
                case "numa":
                    // -numa node,mem= only describes ranges of the one RAM block; memdev= gives a node its own backend.
                    var numa = Next();
                    if (SplitOptions(numa, "type").FirstOrDefault(o => o.Key == "memdev") is { Key: not null } memdev)
                    {
                        line.NumaMemdevs.Add(memdev.Value);
                    }
                    break;
                case "device":
                    var device = line.ParseProperties(Next(), "driver");
                    line.Devices.Add(device);
                    var driver = device.GetValueOrDefault("driver", "");
                    if (driver is "pc-dimm" or "nvdimm" or "virtio-mem-pci" or "virtio-pmem-pci" or "sgx-epc")
                    {
                        line.UnmodelledMemory.Add($"-device {driver}");
                    }
                    break;
                case "readconfig":
                    line.UnmodelledMemory.Add($"-readconfig {Next()} (its memory settings cannot be read from the core)");
                    break;
            }
        }
        if (line.NumaMemdevs.Count > 1)
        {
            line.UnmodelledMemory.Add($"{line.NumaMemdevs.Count} NUMA nodes with a memory backend each ({string.Join(", ", line.NumaMemdevs)}), "
                + "so guest RAM is split over that many mappings");
        }
        return line;
    }

    private void ParseMemory(string value)
    {
        // -m [size=]N[unit][,slots=n,maxmem=size]; a bare number is MiB (qemu-options.hx, vl.c parse_memory_options).
        foreach (var (key, item) in SplitOptions(value, "size"))
        {
            if (key == "size")
            {
                if (ParseSize(item, defaultShift: 20) is { } size)
                {
                    MemoryOptionBytes = size;
                }
                else
                {
                    Errors.Add($"-m size '{item}' is not a size");
                }
            }
        }
    }

    private void ParseMachine(string value)
    {
        foreach (var (key, item) in SplitOptions(value, "type"))
        {
            switch (key)
            {
                case "type":
                    MachineType = item;
                    break;
                case "memory-backend":
                    MemoryBackendId = item;
                    break;
                case "pflash0" or "pflash1":
                    HasPflash = true;
                    break;
                case "dump-guest-core":
                    DumpGuestCore = item is "on" or "true" or "yes";
                    break;
                case "max-ram-below-4g":
                    if (ParseSize(item, defaultShift: 0) is { } limit)
                    {
                        MaxRamBelow4G = limit;
                    }
                    else
                    {
                        Errors.Add($"-machine max-ram-below-4g '{item}' is not a size");
                    }
                    break;
            }
        }
    }

    private void ParseObject(string value)
    {
        var props = ParseProperties(value, "qom-type");
        if (!props.TryGetValue("qom-type", out var type) || !type.StartsWith("memory-backend-", StringComparison.Ordinal)
            || !props.TryGetValue("id", out var id))
        {
            return;
        }
        ulong? size = null;
        if (props.TryGetValue("size", out var sizeText))
        {
            size = ParseSize(sizeText, defaultShift: 0);
            if (size is null)
            {
                Errors.Add($"-object {type},id={id}: size '{sizeText}' is not a size");
            }
        }
        Backends[id] = new MemoryBackendObject(id, type, size, props.GetValueOrDefault("mem-path"));
    }

    private Dictionary<string, string> ParseJsonObject(string value)
    {
        var props = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(value, new JsonDocumentOptions { MaxDepth = 16 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return props;
            }
            foreach (var property in document.RootElement.EnumerateObject())
            {
                props[property.Name] = property.Value.ValueKind switch
                {
                    JsonValueKind.String => property.Value.GetString()!,
                    JsonValueKind.Number => property.Value.GetRawText(),
                    _ => property.Value.GetRawText(),
                };
            }
        }
        catch (JsonException)
        {
            Errors.Add($"-object '{value}' is not valid JSON");
        }
        return props;
    }

    /// <summary>An option's properties, from QemuOpts key=value text or the JSON form libvirt writes.</summary>
    private Dictionary<string, string> ParseProperties(string value, string implicitKey)
    {
        if (value.TrimStart().StartsWith('{'))
        {
            return ParseJsonObject(value);
        }
        var props = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, item) in SplitOptions(value, implicitKey))
        {
            props[key] = item;
        }
        return props;
    }

    /// <summary>
    /// QemuOpts syntax: comma-separated key=value, the first bare value belongs to <paramref name="implicitKey"/>,
    /// and ",," is a literal comma.
    /// </summary>
    internal static List<KeyValuePair<string, string>> SplitOptions(string value, string implicitKey)
    {
        var items = new List<string>();
        var current = new System.Text.StringBuilder();
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == ',')
            {
                if (i + 1 < value.Length && value[i + 1] == ',')
                {
                    current.Append(',');
                    i++;
                    continue;
                }
                items.Add(current.ToString());
                current.Clear();
                continue;
            }
            current.Append(value[i]);
        }
        items.Add(current.ToString());
        var result = new List<KeyValuePair<string, string>>();
        for (var i = 0; i < items.Count; i++)
        {
            var eq = items[i].IndexOf('=');
            if (eq < 0)
            {
                if (i == 0 && items[i].Length > 0)
                {
                    result.Add(new(implicitKey, items[i]));
                }
                continue;
            }
            result.Add(new(items[i][..eq], items[i][(eq + 1)..]));
        }
        return result;
    }

    /// <summary>
    /// A size as qemu_strtosz reads it: a number (decimal or 0x hex, decimal fractions allowed) with an optional
    /// B/K/M/G/T/P/E suffix (powers of 1024); without a suffix the unit is 2^<paramref name="defaultShift"/>.
    /// </summary>
    internal static ulong? ParseSize(string text, int defaultShift)
    {
        text = text.Trim();
        if (text.Length == 0)
        {
            return null;
        }
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex) ? hex : null;
        }
        var shift = defaultShift;
        var suffix = char.ToUpperInvariant(text[^1]);
        var suffixShift = "BKMGTPE".IndexOf(suffix);
        if (suffixShift >= 0)
        {
            shift = suffixShift * 10;
            text = text[..^1];
        }
        if (!decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number) || number < 0)
        {
            return null;
        }
        var bytes = number * (decimal)Math.Pow(2, shift);
        return bytes > ulong.MaxValue ? null : (ulong)decimal.Truncate(bytes);
    }
}
