using System.Xml.Linq;
using VmDebug.Engine.CrashConfiguration;
using VmDebug.Engine.Libvirt;

namespace VmDebug.Engine.Pstore;

/// <summary>
/// Plans the edit of a direct-kernel-boot domain's &lt;os&gt;&lt;cmdline&gt;: memmap=SIZE$ADDR reserves the region
/// (an x86 boot parameter), ramoops.* places the zones. Words of an earlier Set-GuestPstore (ramoops.*, and the
/// memmap= at its old address) are replaced, everything else on the line is kept.
/// </summary>
internal static class PstoreDomainEditor
{
    public static PstoreConfigurationChange Plan(PstoreConfigurationRequest request, LibvirtHost? libvirt, string target)
    {
        var edit = DomainXmlEdit.Load(request.DomainXml, request.XmlPath, request.DomainIsRunning);
        var doc = edit.Document;
        var name = doc.Root.Element("name")?.Value;
        var size = request.Size;
        if (size < 16 * 1024 || size > PstoreLayout.MaxMemSize || size % 4096 != 0)
        {
            throw new PstoreException(PstoreException.LayoutInvalid, ErrorKind.InvalidArgument, target,
                $"the region size 0x{size:x} must be whole 4 KiB pages, at least 16 KiB (three 4 KiB zones and a record) and at most 0x{PstoreLayout.MaxMemSize:x}.");
        }
        var record = request.RecordSize ?? Math.Max(4096, 1UL << (63 - System.Numerics.BitOperations.LeadingZeroCount(size / 8)));
        var layoutCheck = new PstoreLayout { MemAddress = request.Address ?? 0, MemSize = size, RecordSize = record, EccSize = request.Ecc == 1 ? 16 : request.Ecc };
        layoutCheck.Zones(target); // the kernel must be able to carve it

        var os = doc.Root.Element("os");
        var type = os?.Element("type");
        var (address, source, reason) = PstoreAddressChooser.Choose(size, request.Address, request.E820,
            (ulong?)GuestPanicEditor.MemoryBytes(doc.Root.Element("memory")), (string?)type?.Attribute("machine"), target);
        var parameters = $"memmap={MemParse(size)}$0x{address:x} ramoops.mem_address=0x{address:x} ramoops.mem_size=0x{size:x} ramoops.record_size=0x{record:x}"
            + (request.Ecc != 0 ? $" ramoops.ecc={request.Ecc}" : "");

        var warnings = new List<string>(request.SourceWarnings);
        var direct = os?.Element("kernel") is not null;
        string? commandLine = null;
        if (direct)
        {
            var cmdline = os!.Element("cmdline");
            var old = cmdline?.Value ?? "";
            commandLine = string.Join(' ', WithoutOldPstoreWords(old).Append(parameters));
            if (commandLine != old)
            {
                if (cmdline is null)
                {
                    var after = os.Element("initrd") ?? os.Element("kernel")!;
                    after.AddAfterSelf(new XElement("cmdline", commandLine));
                }
                else
                {
                    cmdline.Value = commandLine;
                }
                edit.Record(true, $"<cmdline>: {parameters}");
            }
            if (edit.TakesEffectAtNextBoot)
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
        var configuration = new VmDebug.PstoreConfiguration
        {
            Domain = name,
            XmlPath = request.XmlPath,
            DirectKernelBoot = direct,
            Address = address,
            Size = size,
            RecordSize = record,
            Ecc = request.Ecc,
            KernelParameters = parameters,
            CommandLine = commandLine,
            AddressSource = source,
            AddressReason = reason,
            Changed = edit.Changed,
            Diff = edit.Changed ? edit.Diff : "",
            Warnings = warnings,
        };
        return new PstoreConfigurationChange(edit, configuration, libvirt, target);
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
}
