namespace VmDebug.Engine.Demo;

/// <summary>What the demo did, with timings.</summary>
public sealed class DemoReport
{
    public required string KernelRelease { get; init; }
    public required string QemuVersion { get; init; }
    public required int GuestMemoryMiB { get; init; }
    public required TimeSpan GuestBuild { get; init; }
    public required TimeSpan QemuStart { get; init; }
    public required TimeSpan BootToPanic { get; init; }
    public required GuestPanicEvent Panic { get; init; }
    public required GuestMemoryDump Dump { get; init; }

    /// <summary>The panic message read back from the dump's printk ring ("Kernel panic - not syncing: …").</summary>
    public string? PanicMessage { get; init; }

    /// <summary>The crashing task as the kernel printed it: "CPU n PID n comm".</summary>
    public string? CrashingTask { get; init; }

    /// <summary>The first call-trace frames from the dump, symbol+offset/size.</summary>
    public required IReadOnlyList<string> CallTrace { get; init; }
}
