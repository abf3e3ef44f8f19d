namespace VmDebug;

/// <summary>
/// Why a guest died, read from its dump or its live memory without a vmlinux: kernel identity from VMCOREINFO, the
/// panic and oops lines and crashing task from the printk ring, vCPU registers from QEMU's CPU notes, and symbols from
/// the kernel's own kallsyms (Linux 6.0+).
/// </summary>
public sealed class GuestCrashInfo
{
    /// <summary>The dump, core, socket or domain read.</summary>
    public required string Source { get; init; }

    public string? KernelRelease { get; init; }

    /// <summary>VMCOREINFO BUILD-ID, taken as given (some kernels emit a broken one; see <see cref="BuildIdValid"/>).</summary>
    public string? BuildId { get; init; }

    /// <summary>False when BUILD-ID is not 40 hex digits.</summary>
    public bool BuildIdValid { get; init; }

    public int? PageSize { get; init; }

    /// <summary>NUMBER(phys_base); the view shows it in hex.</summary>
    public long? PhysBase { get; init; }

    /// <summary>KERNELOFFSET: the KASLR slide.</summary>
    public ulong? KernelOffset { get; init; }

    public int PagingLevels { get; init; }

    /// <summary>The text after "Kernel panic - not syncing: ", or null when the log holds no panic.</summary>
    public string? PanicMessage { get; init; }

    /// <summary>The oops/BUG/WARNING header lines (e.g. "BUG: kernel NULL pointer dereference, address: …", "Oops: 0002 [#1] SMP").</summary>
    public IReadOnlyList<string> OopsLines { get; init; } = [];

    /// <summary>The crashing CPU's instruction pointer (from its QEMU CPU note), or null without notes.</summary>
    public ulong? Rip { get; init; }

    /// <summary>The RIP as symbol+0xoffset/0xsize: from kallsyms for <see cref="Rip"/>, else the log's "RIP: 0010:" line.</summary>
    public string? RipSymbol { get; init; }

    /// <summary>From the "CPU: n PID: n Comm: x" line.</summary>
    public int? Cpu { get; init; }

    public int? Pid { get; init; }

    public string? Comm { get; init; }

    /// <summary>"Not tainted", or the taint letters after "Tainted: ".</summary>
    public string? Taint { get; init; }

    /// <summary>The first "Call Trace:" after the oops or panic, frame by frame.</summary>
    public IReadOnlyList<GuestCallFrame> CallTrace { get; init; } = [];

    /// <summary>Time since boot of the last record in the log.</summary>
    public TimeSpan? Uptime { get; init; }

    /// <summary>One entry per vCPU from QEMU's CPU notes (dumps made by QEMU; live guests and process cores have none).</summary>
    public IReadOnlyList<GuestVcpuState> Vcpus { get; init; } = [];

    /// <summary>False when VMCOREINFO carries no kallsyms: then every symbol is left empty.</summary>
    public bool KallsymsAvailable { get; init; }

    public IReadOnlyList<string> Warnings { get; init; } = [];
}
