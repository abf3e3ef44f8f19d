using System.Diagnostics;
using System.Security.Cryptography;
using VmDebug.Engine;

namespace VmDebug.Fuzz;

/// <summary>How one case ended.</summary>
internal enum CaseOutcome
{
    Succeeded,
    TypedError,
    UntypedError,
    Hang,
    OverAllocation,
}

/// <summary>Counts per kind, and the case limits: success or a typed VmDebug error, within 5 s and 256 MiB of allocation.</summary>
internal sealed class FuzzRunner(string scratchDirectory, string? failureDirectory)
{
    public static readonly TimeSpan CaseTimeLimit = TimeSpan.FromSeconds(5);
    public const long CaseAllocationLimit = 256L << 20;
    private static readonly TimeSpan BlockedLimit = TimeSpan.FromMinutes(1);

    private readonly Dictionary<string, long[]> _counts = [];
    private long _caseNumber;

    public long PeakAllocation { get; private set; }

    /// <summary>Cases over 5 s of wall time but under 5 s of CPU (the machine was busy), counted as what they ended in.</summary>
    public long SlowCases { get; private set; }
    public string PeakAllocationKind { get; private set; } = "";

    public long Total(CaseOutcome outcome) => _counts.Values.Sum(c => c[(int)outcome]);
    public long Cases => _counts.Values.Sum(c => c.Sum());
    public long Failures => Total(CaseOutcome.UntypedError) + Total(CaseOutcome.Hang) + Total(CaseOutcome.OverAllocation);

    public async Task<CaseOutcome> RunAsync(FuzzKind kind, byte[] data)
    {
        // A hung case keeps its file; the next case must not share it.
        var file = Path.Combine(scratchDirectory, $"case-{++_caseNumber % 1000}");
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var started = DateTime.UtcNow;
        Exception? error = null;
        CaseOutcome outcome;
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var work = Task.Run(() => kind.Run(data, file));
        try
        {
            try
            {
                await work.WaitAsync(CaseTimeLimit);
            }
            catch (TimeoutException)
            {
                // On a shared, loaded machine a niced case can take 5 s of wall time with far less work: only a case
                // that burns 5 s of CPU, or blocks for a minute, is a hang.
                while (!work.IsCompleted && Process.GetCurrentProcess().TotalProcessorTime - cpuBefore < CaseTimeLimit
                    && DateTime.UtcNow - started < BlockedLimit)
                {
                    await Task.WhenAny(work, Task.Delay(250));
                }
                if (!work.IsCompleted)
                {
                    throw;
                }
                SlowCases++;
                await work;
            }
            outcome = CaseOutcome.Succeeded;
        }
        catch (TimeoutException)
        {
            outcome = CaseOutcome.Hang;
        }
        catch (VmDebugException)
        {
            outcome = CaseOutcome.TypedError;
        }
        catch (Exception e)
        {
            error = e;
            outcome = CaseOutcome.UntypedError;
        }
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        if (allocated > PeakAllocation)
        {
            PeakAllocation = allocated;
            PeakAllocationKind = kind.Name;
        }
        if (allocated > CaseAllocationLimit && outcome is not CaseOutcome.Hang)
        {
            outcome = CaseOutcome.OverAllocation;
        }
        if (!_counts.TryGetValue(kind.Name, out var counts))
        {
            _counts[kind.Name] = counts = new long[Enum.GetValues<CaseOutcome>().Length];
        }
        counts[(int)outcome]++;
        if (outcome is CaseOutcome.UntypedError or CaseOutcome.Hang or CaseOutcome.OverAllocation)
        {
            Save(kind, data, outcome, error, allocated);
        }
        return outcome;
    }

    /// <summary>Keeps a failing case as KIND-HASH.bin (a regression input) with KIND-HASH.txt saying what happened.</summary>
    private void Save(FuzzKind kind, byte[] data, CaseOutcome outcome, Exception? error, long allocated)
    {
        var name = $"{kind.Name}-{Convert.ToHexString(SHA256.HashData(data))[..12].ToLowerInvariant()}";
        var message = $"{outcome}: {(error is null ? "" : error.GetType().FullName + ": " + error.Message)} (allocated {allocated >> 20} MiB)";
        Console.Error.WriteLine($"fuzz: {name}: {message}");
        if (failureDirectory is not null)
        {
            Directory.CreateDirectory(failureDirectory);
            File.WriteAllBytes(Path.Combine(failureDirectory, name + ".bin"), data);
            File.WriteAllText(Path.Combine(failureDirectory, name + ".txt"), message + Environment.NewLine + error);
        }
    }

    public void Report(TextWriter writer, TimeSpan elapsed)
    {
        writer.WriteLine($"{"kind",-24} {"cases",9} {"ok",9} {"typed",9} {"untyped",8} {"hangs",6} {">256MiB",8}");
        foreach (var (kind, c) in _counts.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            writer.WriteLine($"{kind,-24} {c.Sum(),9} {c[0],9} {c[1],9} {c[2],8} {c[3],6} {c[4],8}");
        }
        writer.WriteLine($"fuzz: {Cases} cases in {elapsed.TotalMinutes:0.0} min: {Total(CaseOutcome.Succeeded)} ok, {Total(CaseOutcome.TypedError)} typed, "
            + $"{Total(CaseOutcome.UntypedError)} untyped, {Total(CaseOutcome.Hang)} hangs, {Total(CaseOutcome.OverAllocation)} over 256 MiB; "
            + $"peak allocation {PeakAllocation / 1048576.0:0.0} MiB in one case ({PeakAllocationKind}); {SlowCases} slow only by wall clock");
    }

    public static Stopwatch StartClock() => Stopwatch.StartNew();
}
