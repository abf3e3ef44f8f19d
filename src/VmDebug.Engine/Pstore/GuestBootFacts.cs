using System.Globalization;
using System.Text.RegularExpressions;
using VmDebug.Engine.KernelLog;

namespace VmDebug.Engine.Pstore;

/// <summary>
/// What the guest kernel's own log says about its boot that pstore needs: the command line ("Command line:"),
/// the firmware's e820 map ("BIOS-e820:"), nr_cpu_ids ("setup_percpu:") and whether it panicked.
/// </summary>
public sealed partial class GuestBootFacts
{
    public static readonly GuestBootFacts None = new(null, [], null, null);

    private GuestBootFacts(string? commandLine, IReadOnlyList<E820Range> e820, int? cpus, string? panicLine)
    {
        CommandLine = commandLine;
        E820 = e820;
        Cpus = cpus;
        PanicLine = panicLine;
    }

    public string? CommandLine { get; }

    /// <summary>The e820 map the firmware gave, in log order.</summary>
    public IReadOnlyList<E820Range> E820 { get; }

    public int? Cpus { get; }

    /// <summary>The "Kernel panic - not syncing: …" line, escaped; null when the log shows no panic.</summary>
    public string? PanicLine { get; }

    public static GuestBootFacts From(GuestKernelLog log) => FromLines(log.Entries.Select(e => KmsgText.Decode(e.Text.Span)));

    /// <summary>The facts from the log's record texts, oldest first.</summary>
    public static GuestBootFacts FromLines(IEnumerable<string> lines)
    {
        string? commandLine = null;
        string? panic = null;
        int? cpus = null;
        var e820 = new List<E820Range>();
        foreach (var text in lines)
        {
            if (text.StartsWith("Command line: ", StringComparison.Ordinal))
            {
                commandLine = text["Command line: ".Length..];
            }
            else if (text.StartsWith("Kernel panic - not syncing", StringComparison.Ordinal))
            {
                panic ??= KmsgText.EscapeForDisplay(text);
            }
            else if (E820Line().Match(text) is { Success: true } range
                && ulong.TryParse(range.Groups[1].Value, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var first)
                && ulong.TryParse(range.Groups[2].Value, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var last)
                && last >= first && e820.Count < 1024)
            {
                e820.Add(new E820Range(first, last, range.Groups[3].Value));
            }
            else if (CpuIds().Match(text) is { Success: true } ids && int.TryParse(ids.Groups[1].Value, CultureInfo.InvariantCulture, out var n))
            {
                cpus = n;
            }
        }
        return new GuestBootFacts(commandLine, e820, cpus, panic);
    }

    [GeneratedRegex(@"\ABIOS-e820: \[mem 0x([0-9a-f]{1,16})-0x([0-9a-f]{1,16})\] (.{1,40})\z")]
    private static partial Regex E820Line();

    [GeneratedRegex(@"nr_cpu_ids:(\d{1,5})\b")]
    private static partial Regex CpuIds();
}
