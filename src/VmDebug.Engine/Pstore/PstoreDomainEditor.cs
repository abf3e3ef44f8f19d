using System.Xml.Linq;
using VmDebug.Engine.DomainXml;

namespace VmDebug.Engine.Pstore;

/// <summary>Set-GuestPstore's inputs once the domain XML is in hand. Exactly one of DomainXml (libvirt) and XmlPath (a file).</summary>
public sealed record PstoreConfigurationOptions
{
    public string? DomainXml { get; init; }
    public string? XmlPath { get; init; }

    /// <summary>Bytes of the region (ramoops.mem_size, memmap=SIZE).</summary>
    public required ulong Size { get; init; }

    /// <summary>Null: picked from the guest's usable RAM.</summary>
    public ulong? Address { get; init; }

    /// <summary>Null: an eighth of the region (power of two, at least 4 KiB): several dmesg zones, each big enough for a panic.</summary>
    public ulong? RecordSize { get; init; }

    public int Ecc { get; init; }

    /// <summary>The running guest's e820 map (its log's BIOS-e820 records); null or empty: modelled from the memory size.</summary>
    public IReadOnlyList<E820Range>? E820 { get; init; }

    public bool DomainIsRunning { get; init; }

    /// <summary>What gathering the inputs found (an e820 map that could not be read, say), reported first.</summary>
    public IReadOnlyList<string> SourceWarnings { get; init; } = [];
}

/// <summary>
/// Plans the edit of a direct-kernel-boot domain's &lt;os&gt;&lt;cmdline&gt;: memmap=SIZE$ADDR reserves the region
/// (an x86 boot parameter), ramoops.* places the zones. Words of an earlier Set-GuestPstore (ramoops.*, and the
/// memmap= at its old address) are replaced, everything else on the line is kept.
/// </summary>
public static class PstoreDomainEditor
{
    public static PstoreConfigurationPlan Plan(PstoreConfigurationOptions options)
    {
        if ((options.DomainXml is null) == (options.XmlPath is null))
        {
            throw new VmDebugException("DomainSourceAmbiguous", ErrorKind.InvalidArgument, "Give either a libvirt domain or a domain XML file, not both or neither.");
        }
        var original = options.DomainXml ?? ReadFile(options.XmlPath!);
        var doc = DomainXmlDocument.Parse(original, options.XmlPath);
        var name = doc.Root.Element("name")?.Value;
        var target = options.XmlPath ?? $"domain '{name}'";
        var size = options.Size;
        if (size < 16 * 1024 || size > PstoreLayout.MaxMemSize || size % 4096 != 0)
        {
            throw new PstoreException(PstoreException.LayoutInvalid, ErrorKind.InvalidArgument, target,
                $"the region size 0x{size:x} must be whole 4 KiB pages, at least 16 KiB (three 4 KiB zones and a record) and at most 0x{PstoreLayout.MaxMemSize:x}.");
        }
        var record = options.RecordSize ?? Math.Max(4096, 1UL << (63 - System.Numerics.BitOperations.LeadingZeroCount(size / 8)));
        var layoutCheck = new PstoreLayout { MemAddress = options.Address ?? 0, MemSize = size, RecordSize = record, EccSize = options.Ecc == 1 ? 16 : options.Ecc };
        layoutCheck.Zones(target); // the kernel must be able to carve it

        var os = doc.Root.Element("os");
        var type = os?.Element("type");
        var (address, source, reason) = PstoreAddressChooser.Choose(size, options.Address, options.E820,
            (ulong?)GuestPanicEditor.MemoryBytes(doc.Root.Element("memory")), (string?)type?.Attribute("machine"), target);
        var parameters = $"memmap={MemParse(size)}$0x{address:x} ramoops.mem_address=0x{address:x} ramoops.mem_size=0x{size:x} ramoops.record_size=0x{record:x}"
            + (options.Ecc != 0 ? $" ramoops.ecc={options.Ecc}" : "");

        var warnings = new List<string>(options.SourceWarnings);
        var direct = os?.Element("kernel") is not null;
        string? commandLine = null;
        var updated = original;
        if (direct)
        {
            var cmdline = os!.Element("cmdline");
            var old = cmdline?.Value ?? "";
            commandLine = string.Join(' ', WithoutOldPstoreWords(old).Append(parameters));
            if (commandLine != old)
            {
                if (cmdline is null)
                {
                    var after = (XElement?)os.Element("initrd") ?? os.Element("kernel")!;
                    after.AddAfterSelf(new XElement("cmdline", commandLine));
                }
                else
                {
                    cmdline.Value = commandLine;
                }
                updated = doc.ToString();
            }
            if (options.DomainIsRunning && updated != original)
            {
                warnings.Add("The domain is running: its persistent definition changed, and the kernel reads the new command line at its next boot.");
            }
        }
        else
        {
            warnings.Add($"{target} boots no kernel directly (no <os><kernel>), so libvirt cannot give it a command line: add \"{parameters}\" "
                + "inside the guest (GRUB_CMDLINE_LINUX in /etc/default/grub, with $ written \\$, then update-grub) and reboot it.");
        }
        warnings.AddRange(PauseWarnings(doc.Root));
        var label = options.XmlPath ?? target;
        var configuration = new VmDebug.PstoreConfiguration
        {
            Domain = name,
            XmlPath = options.XmlPath,
            DirectKernelBoot = direct,
            Address = address,
            Size = size,
            RecordSize = record,
            Ecc = options.Ecc,
            KernelParameters = parameters,
            CommandLine = commandLine,
            AddressSource = source,
            AddressReason = reason,
            Changed = updated != original,
            Diff = updated != original ? UnifiedDiff.Create(original, updated, label, label) : "",
            Warnings = warnings,
        };
        return new PstoreConfigurationPlan(options.XmlPath, original, updated, configuration);
    }

    /// <summary>
    /// The guest's panic notifiers (pvpanic among them) run before pstore's kmsg dump (kernel/panic.c), so a domain
    /// whose panic device makes QEMU stop the guest never gets its record written; a QEMU that exits at the guest's
    /// reboot takes the RAM, and the record, with it.
    /// </summary>
    private static IEnumerable<string> PauseWarnings(XElement root)
    {
        var panic = root.Element("devices")?.Elements("panic").FirstOrDefault();
        var onCrash = root.Element("on_crash")?.Value.Trim() ?? "destroy";
        if (panic is not null)
        {
            yield return $"The domain has a panic device (model '{(string?)panic.Attribute("model") ?? "default"}'): the guest reports its panic to QEMU "
                + $"before pstore writes, and QEMU stops it there for libvirt's on_crash ({onCrash}), so the dmesg record is never written. "
                + "Remove the panic device for pstore records (a dump taken at the panic has the log too).";
        }
        if (root.Element("on_reboot")?.Value.Trim() == "destroy")
        {
            yield return "on_reboot is destroy: QEMU exits when the guest reboots and its RAM, with the record, is gone; "
                + "read the record with Get-GuestPstore before, or set on_reboot to restart (the record survives the warm reboot).";
        }
    }

    /// <summary>The command line without ramoops.* words and without the memmap= that reserved their old address.</summary>
    private static IEnumerable<string> WithoutOldPstoreWords(string commandLine)
    {
        var words = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var oldAddress = words.Where(w => w.StartsWith("ramoops.mem_address=", StringComparison.Ordinal))
            .Select(w => PstoreLayout.TryParseKernelInteger(w["ramoops.mem_address=".Length..], out var a) ? a : (ulong?)null)
            .LastOrDefault();
        return words.Where(w => !w.StartsWith("ramoops.", StringComparison.Ordinal) && !(oldAddress is { } a && IsMemmapAt(w, a)));
    }

    private static bool IsMemmapAt(string word, ulong address)
    {
        if (!word.StartsWith("memmap=", StringComparison.Ordinal) || word.IndexOf('$') is var dollar && dollar < 0)
        {
            return false;
        }
        return PstoreLayout.TryParseKernelInteger(word[(dollar + 1)..], out var at) && at == address;
    }

    /// <summary>A size as memparse reads it: whole MiB as M, whole KiB as K, else hex.</summary>
    private static string MemParse(ulong size) =>
        size % (1 << 20) == 0 ? $"{size >> 20}M" : size % 1024 == 0 ? $"{size >> 10}K" : $"0x{size:x}";

    private static string ReadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new VmDebugException("DomainXmlNotFound", ErrorKind.ObjectNotFound, $"The domain XML file {path} does not exist.", path);
        }
        return File.ReadAllText(path);
    }
}
