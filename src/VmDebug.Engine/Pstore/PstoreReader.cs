using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using VmDebug.Engine.GuestKernel;
using VmDebug.Engine.KernelLog;

namespace VmDebug.Engine.Pstore;

/// <summary>
/// Get-GuestPstore / vmdebug pstore: reads the ramoops region straight out of guest-physical memory (a live guest
/// over QMP or libvirt, which keeps running, or a dump) and decodes every zone, as the guest itself would after
/// a warm reboot. Says which case it is when there is nothing to return: no region, no record yet, or a guest
/// stopped by pvpanic before pstore wrote.
/// </summary>
public static class PstoreReader
{
    public static async Task<PstoreReadResult> ReadAsync(PstoreRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var session = await GuestKernelSessions.OpenAsync(request.Target, cancellationToken).ConfigureAwait(false);
        return await GuestKernelSessions.RunAsync(session, () => Read(session, request, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    private static PstoreReadResult Read(GuestKernelSession session, PstoreRequest request, CancellationToken cancellationToken)
    {
        var warnings = new List<string>();
        var facts = GuestBootFacts.None;
        try
        {
            facts = GuestBootFacts.From(GuestKernelLog.Read(session));
        }
        catch (VmDebugException e)
        {
            warnings.Add($"The guest's kernel log could not be read ({e.Message}), so its command line and panic state are unknown.");
        }
        var (layout, from) = ResolveLayout(session.Source, request, facts, warnings);
        return Decode(session.Memory, layout, from, facts, warnings, cancellationToken);
    }

    /// <summary>Parameters first; what they leave unset comes from the command line, then from ramoops's defaults.</summary>
    internal static (PstoreLayout Layout, string From) ResolveLayout(string source, PstoreRequest request, GuestBootFacts facts, List<string> warnings)
    {
        var cpus = facts.Cpus ?? 1;
        var fromLog = facts.CommandLine is { } line ? PstoreLayout.FromCommandLine(line, cpus, warnings) : null;
        var given = request.MemAddress is not null && request.MemSize is not null;
        if (!given && fromLog is null)
        {
            var why = facts.CommandLine is null
                ? "no layout was given and the guest's log holds no \"Command line:\" record to read it from"
                : $"its kernel command line sets no ramoops.mem_address and ramoops.mem_size, so it has no ramoops region (command line: {KmsgText.EscapeForDisplay(facts.CommandLine)})";
            throw new PstoreException(PstoreException.NotConfigured, ErrorKind.ObjectNotFound, source,
                why + ". Give the layout (-MemAddress, -MemSize, …), or configure the guest with Set-GuestPstore.");
        }
        var baseLayout = fromLog ?? new PstoreLayout { MemAddress = request.MemAddress!.Value, MemSize = request.MemSize!.Value, Cpus = cpus };
        var layout = baseLayout with
        {
            MemAddress = request.MemAddress ?? baseLayout.MemAddress,
            MemSize = request.MemSize ?? baseLayout.MemSize,
            RecordSize = request.RecordSize ?? baseLayout.RecordSize,
            ConsoleSize = request.ConsoleSize ?? baseLayout.ConsoleSize,
            FtraceSize = request.FtraceSize ?? baseLayout.FtraceSize,
            PmsgSize = request.PmsgSize ?? baseLayout.PmsgSize,
            EccSize = request.Ecc is { } ecc ? (ecc == 1 ? 16 : ecc) : baseLayout.EccSize,
        };
        var anyGiven = request.MemAddress is not null || request.MemSize is not null || request.RecordSize is not null || request.ConsoleSize is not null
            || request.FtraceSize is not null || request.PmsgSize is not null || request.Ecc is not null;
        var from = fromLog is null ? "parameters" : anyGiven ? "parameters and command line" : "command line";
        return (layout, from);
    }

    /// <summary>Reads and decodes every zone of <paramref name="layout"/> from <paramref name="memory"/>.</summary>
    internal static PstoreReadResult Decode(IGuestPhysicalMemory memory, PstoreLayout layout, string layoutFrom, GuestBootFacts facts,
        List<string> warnings, CancellationToken cancellationToken)
    {
        var source = memory.Name;
        var zones = ReadZones(memory, layout, layoutFrom, cancellationToken);
        if (zones.Count(z => z.State != ZoneState.NoSignature) < zones.Count && ReadZonesOrNull(memory, layout with { EvenZoneSizes = !layout.EvenZoneSizes },
                layoutFrom, cancellationToken) is { } other && other.Count(z => z.State != ZoneState.NoSignature) > zones.Count(z => z.State != ZoneState.NoSignature))
        {
            // Kernels before the ALIGN_DOWN(zone_sz, 2) fix carve odd-sized zones: their signatures say which kernel this is.
            zones = other;
            layout = layout with { EvenZoneSizes = !layout.EvenZoneSizes };
        }
        if (zones.All(z => z.State == ZoneState.NoSignature))
        {
            throw new PstoreException(PstoreException.NoRegion, ErrorKind.ObjectNotFound, source,
                $"no zone at 0x{layout.MemAddress:x} carries the ramoops signature (the first: {zones[0].Problem}): ramoops did not attach there — "
                + $"not loaded, the range not reserved (memmap=), or another layout ({layout}; from {layoutFrom}).");
        }
        var records = new List<VmDebug.PstoreRecord>();
        foreach (var zone in zones)
        {
            if (zone.Problem is { } problem)
            {
                warnings.Add($"{Describe(zone.Spec)}: {problem}; skipped.");
                continue;
            }
            if (zone.EccMismatches > 0)
            {
                warnings.Add($"{Describe(zone.Spec)}: ECC parity differs in {zone.EccMismatches} of {zone.EccBlocks} blocks: the record may be damaged.");
            }
            if (zone.State == ZoneState.Valid && ToRecord(source, zone, warnings) is { } record)
            {
                records.Add(record);
            }
        }
        if (!records.Any(r => r.Kind == PstoreKind.Dmesg))
        {
            if (facts.PanicLine is { } panic)
            {
                throw new PstoreException(PstoreException.PausedBeforeWrite, ErrorKind.InvalidOperation, source,
                    $"the guest panicked (\"{panic}\") but its ramoops dmesg zones are empty: the panic notifiers, pvpanic among them, run before "
                    + "pstore's dump, and a guest stopped at its pvpanic event never writes the record. Let the guest finish its panic: run QEMU "
                    + "with -action panic=none (not pause), or give the libvirt domain no panic device or an on_crash that does not stop it "
                    + "(not preserve or coredump-*), and add panic=N to the kernel command line so it reboots N seconds later and keeps the record.");
            }
            warnings.Add($"The ramoops region at 0x{layout.MemAddress:x} is set up but holds no dmesg record yet: ramoops writes one at the next oops or panic.");
        }
        return new PstoreReadResult { Source = source, Layout = layout, LayoutFrom = layoutFrom, Records = records, Warnings = warnings };
    }

    private static List<PstoreZone> ReadZones(IGuestPhysicalMemory memory, PstoreLayout layout, string layoutFrom, CancellationToken cancellationToken)
    {
        var zones = new List<PstoreZone>();
        foreach (var spec in layout.Zones(memory.Name))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var bytes = new byte[spec.Size];
            if (!memory.TryRead(spec.Address, bytes))
            {
                throw new PstoreException(PstoreException.RegionUnreadable, ErrorKind.ReadError, memory.Name,
                    $"the {spec.Kind} zone at physical 0x{spec.Address:x} (0x{spec.Size:x} bytes) is not in the guest's RAM as the source holds it"
                    + $" ({layout}; from {layoutFrom}).");
            }
            zones.Add(PstoreZone.Decode(spec, bytes, layout.EccSize));
        }
        return zones;
    }

    private static List<PstoreZone>? ReadZonesOrNull(IGuestPhysicalMemory memory, PstoreLayout layout, string layoutFrom, CancellationToken cancellationToken)
    {
        try
        {
            return ReadZones(memory, layout, layoutFrom, cancellationToken);
        }
        catch (PstoreException)
        {
            return null;
        }
    }

    private static VmDebug.PstoreRecord? ToRecord(string source, PstoreZone zone, List<string> warnings) => zone.Spec.Kind switch
    {
        PstoreKind.Dmesg => DmesgRecord(source, zone, warnings),
        PstoreKind.Ftrace => Record(source, zone.Spec, FtraceText(zone.Content)),
        _ => Record(source, zone.Spec, Encoding.UTF8.GetString(zone.Content)),
    };

    private static VmDebug.PstoreRecord? DmesgRecord(string source, PstoreZone zone, List<string> warnings)
    {
        var content = zone.Content;
        if (PstoreDmesgHeader.ParseRamoopsHeader(content) is not { } header)
        {
            warnings.Add($"{Describe(zone.Spec)}: it holds {content.Length} bytes but no \"====sec.usec-C|D\" header (the guest's kernel would discard it); skipped.");
            return null;
        }
        var payload = content.AsSpan(header.Length);
        string? codec = null;
        byte[] text;
        if (header.Compressed)
        {
            if (PstoreDecompressor.Decompress(payload) is not { } inflated)
            {
                warnings.Add($"{Describe(zone.Spec)}: the record is marked compressed but no codec (zstd, zlib, deflate, lz4, lzo) decodes its {payload.Length} bytes; skipped.");
                return null;
            }
            (text, codec) = inflated;
        }
        else
        {
            text = payload.ToArray();
        }
        var reason = PstoreDmesgHeader.ParsePayloadHeader(text);
        return new VmDebug.PstoreRecord
        {
            Source = source,
            Kind = PstoreKind.Dmesg,
            Zone = zone.Spec.Index,
            Address = zone.Spec.Address,
            Text = EscapeKeepingLines(Encoding.UTF8.GetString(text)),
            Reason = reason?.Reason,
            Count = reason?.Count,
            Part = reason?.Part,
            Time = header.Time,
            Compressed = header.Compressed,
            Codec = codec,
        };
    }

    /// <summary>
    /// struct pstore_ftrace_record on 64-bit guests: ip, parent_ip, ts (CPU in the low 8 bits; include/linux/pstore.h),
    /// printed as the guest's pstore file prints them but without symbol names (no vmlinux here).
    /// </summary>
    private static string FtraceText(byte[] content)
    {
        const int RecordSize = 24;
        // Records are written whole, so the newest ends at the content's end; a wrapped zone starts inside an overwritten one.
        var skip = content.Length % RecordSize;
        var text = new StringBuilder();
        for (var offset = skip; offset + RecordSize <= content.Length; offset += RecordSize)
        {
            var ip = BinaryPrimitives.ReadUInt64LittleEndian(content.AsSpan(offset));
            var parent = BinaryPrimitives.ReadUInt64LittleEndian(content.AsSpan(offset + 8));
            var ts = BinaryPrimitives.ReadUInt64LittleEndian(content.AsSpan(offset + 16));
            text.Append(CultureInfo.InvariantCulture, $"CPU:{ts & 0xff} ts:{ts & ~0xffUL} {ip:x8}  {parent:x8}\n");
        }
        return text.ToString();
    }

    private static VmDebug.PstoreRecord Record(string source, PstoreZoneSpec spec, string text) => new()
    {
        Source = source,
        Kind = spec.Kind,
        Zone = spec.Index,
        Address = spec.Address,
        Text = EscapeKeepingLines(text),
    };

    /// <summary>Escapes control characters for display, keeping newline and tab, which a multi-line log needs.</summary>
    internal static string EscapeKeepingLines(string text)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            lines[i] = string.Join('\t', lines[i].Split('\t').Select(KmsgText.EscapeForDisplay));
        }
        return string.Join('\n', lines);
    }

    private static string Describe(PstoreZoneSpec spec) =>
        $"{spec.Kind.ToString().ToLowerInvariant()} zone {spec.Index} at physical 0x{spec.Address:x}";
}
