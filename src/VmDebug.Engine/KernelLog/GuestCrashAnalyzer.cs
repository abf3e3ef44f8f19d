using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using VmDebug.Engine.GuestKernel;

namespace VmDebug.Engine.KernelLog;

/// <summary>
/// Get-GuestCrashInfo / vmdebug crash-info: the crash summary of a guest kernel from VMCOREINFO, the printk ring,
/// QEMU's CPU notes and the kernel's own kallsyms. The log lines parsed are the ones the kernel prints on every oops
/// and panic (lib/dump_stack.c dump_stack_print_info, kernel/panic.c, arch/x86/kernel/dumpstack.c).
/// </summary>
public static partial class GuestCrashAnalyzer
{
    private const string PanicPrefix = "Kernel panic - not syncing: ";

    public static async Task<VmDebug.GuestCrashInfo> ReadAsync(GuestKernelTarget target, CancellationToken cancellationToken)
    {
        using var session = await GuestKernelSessions.OpenAsync(target, cancellationToken).ConfigureAwait(false);
        return await GuestKernelSessions.RunAsync(session, () => Analyze(session), cancellationToken).ConfigureAwait(false);
    }

    public static VmDebug.GuestCrashInfo Analyze(GuestKernelSession session)
    {
        var info = session.VmcoreInfo;
        var warnings = new List<string>();
        GuestKernelLog? log = null;
        try
        {
            log = GuestKernelLog.Read(session);
            warnings.AddRange(log.Warnings);
        }
        catch (VmDebugException e)
        {
            warnings.Add($"The kernel log cannot be read, so panic, task and call trace are unknown: {e.Message}");
        }
        var symbols = KernelSymbols.TryLoad(session.View, out var whyNoSymbols);
        if (whyNoSymbols is not null)
        {
            warnings.Add(whyNoSymbols);
        }

        var lines = log?.Entries.Select(e => Encoding.UTF8.GetString(e.Text.Span)).ToList() ?? [];
        var panic = lines.FindLastIndex(l => l.StartsWith(PanicPrefix, StringComparison.Ordinal));
        var firstOops = lines.FindIndex(l => OopsHeader().IsMatch(l));
        var anchor = firstOops >= 0 ? firstOops : panic;
        var oopsLines = firstOops >= 0 ? lines.Skip(firstOops).Where(l => OopsHeader().IsMatch(l)).Take(16).ToList() : [];

        int? cpu = null, pid = null;
        string? comm = null, taint = null, logRip = null;
        var trace = new List<VmDebug.GuestCallFrame>();
        if (anchor >= 0)
        {
            var taskLine = lines.Skip(anchor).Select(l => TaskLine().Match(l)).FirstOrDefault(m => m.Success);
            if (taskLine is not null)
            {
                cpu = int.Parse(taskLine.Groups["cpu"].Value, CultureInfo.InvariantCulture);
                pid = int.Parse(taskLine.Groups["pid"].Value, CultureInfo.InvariantCulture);
                comm = taskLine.Groups["comm"].Value;
                taint = taskLine.Groups["taint"].Success ? taskLine.Groups["taint"].Value : "Not tainted";
            }
            logRip = lines.Skip(anchor).Select(l => KernelRipLine().Match(l)).FirstOrDefault(m => m.Success)?.Groups["symbol"].Value;
            var callTrace = lines.FindIndex(anchor, l => l.Trim() == "Call Trace:");
            for (var i = callTrace + 1; callTrace >= 0 && i < lines.Count && trace.Count < 64; i++)
            {
                var line = lines[i];
                if (line.Trim() is "<TASK>" or "<IRQ>" or "</IRQ>" or "<NMI>" or "</NMI>" or "<#DF>" or "</#DF>")
                {
                    continue;
                }
                var frame = FrameLine().Match(line);
                if (!frame.Success)
                {
                    break; // "</TASK>", "RIP: …" or the next message ends the trace
                }
                trace.Add(Frame(frame, symbols));
            }
        }

        var vcpus = QemuCpuNotes.Read(session.Notes).Select((r, i) => new VmDebug.GuestVcpuState
        {
            Cpu = i,
            Rip = r.Rip,
            Rsp = r.Rsp,
            Cr3 = r.Cr3,
            RipSymbol = r.Rip >= KernelHalf ? symbols?.Lookup(r.Rip)?.ToString() : null,
        }).ToList();
        var crashing = cpu is { } c && c < vcpus.Count ? vcpus[c] : null;
        if (symbols is not null && UnresolvedNote(vcpus, trace) is { } unresolved)
        {
            warnings.Add(unresolved);
        }
        var buildId = info.BuildId;
        return new VmDebug.GuestCrashInfo
        {
            Source = session.Source,
            KernelRelease = info.OsRelease,
            BuildId = buildId,
            BuildIdValid = buildId is { Length: 40 } && buildId.All(Uri.IsHexDigit),
            PageSize = info.PageSize,
            PhysBase = info.PhysBase,
            KernelOffset = info.KernelOffset,
            PagingLevels = session.View.PagingLevels,
            PanicMessage = panic >= 0 ? lines[panic][PanicPrefix.Length..].TrimEnd('\n') : null,
            OopsLines = oopsLines,
            Rip = crashing?.Rip,
            RipSymbol = crashing?.RipSymbol ?? logRip,
            Cpu = cpu,
            Pid = pid,
            Comm = comm,
            Taint = taint,
            CallTrace = trace,
            Uptime = log is { Entries.Count: > 0 } ? TimeSpan.FromTicks((long)(log.Entries[^1].TimestampNanoseconds / 1000 * 10)) : null,
            Vcpus = vcpus,
            KallsymsAvailable = symbols is not null,
            Warnings = warnings,
        };
    }

    private const ulong KernelHalf = 0xffff800000000000;

    /// <summary>What kallsyms of the kernel image cannot name: addresses in modules (their symbols live in each module's own tables).</summary>
    private static string? UnresolvedNote(List<VmDebug.GuestVcpuState> vcpus, List<VmDebug.GuestCallFrame> trace)
    {
        var parts = vcpus.Where(v => v.Rip >= KernelHalf && v.RipSymbol is null)
            .Select(v => $"vCPU {v.Cpu} RIP 0x{v.Rip:x}")
            .Concat(trace.Where(f => f.Module is not null).Select(f => f.Module!).Distinct().Select(m => $"call-trace frames in [{m}] (no addresses)"))
            .ToList();
        return parts.Count == 0 ? null
            : $"Not resolved, as only the kernel image's kallsyms are read (module symbols are not): {string.Join("; ", parts)}.";
    }

    private static VmDebug.GuestCallFrame Frame(Match frame, KernelSymbols? symbols)
    {
        var name = frame.Groups["name"].Value;
        var offset = ulong.Parse(frame.Groups["offset"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var size = ulong.Parse(frame.Groups["size"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var module = frame.Groups["module"].Success ? frame.Groups["module"].Value : null;
        ulong? address = null;
        if (module is null && symbols is not null)
        {
            // Static functions may share a name: the one whose extent matches the printed size is the one meant.
            foreach (var start in symbols.AddressesOf(name))
            {
                if (symbols.Lookup(start) is { } match && match.Size == size)
                {
                    address = start + offset;
                    break;
                }
            }
        }
        return new VmDebug.GuestCallFrame
        {
            Symbol = name,
            Offset = offset,
            Size = size,
            Reliable = !frame.Groups["unreliable"].Success,
            Module = module,
            Address = address,
        };
    }

    [GeneratedRegex(@"^(BUG: |Oops: |general protection fault|kernel BUG at |WARNING: CPU: |Unable to handle kernel |double fault|stack segment)")]
    private static partial Regex OopsHeader();

    // 6.12 added "UID: n" (lib/dump_stack.c); the release and version follow the taint.
    [GeneratedRegex(@"^CPU: (?<cpu>\d+) (?:UID: \d+ )?PID: (?<pid>\d+) Comm: (?<comm>.{1,16}?) (?:Not tainted|Tainted: (?<taint>\S+))")]
    private static partial Regex TaskLine();

    [GeneratedRegex(@"^RIP: 0010:(?<symbol>\S+)")]
    private static partial Regex KernelRipLine();

    [GeneratedRegex(@"^\s+(?<unreliable>\? )?(?<name>[A-Za-z0-9_.$]+)\+0x(?<offset>[0-9a-f]+)/0x(?<size>[0-9a-f]+)(?: \[(?<module>[^\]]+)\])?\s*$")]
    private static partial Regex FrameLine();
}
