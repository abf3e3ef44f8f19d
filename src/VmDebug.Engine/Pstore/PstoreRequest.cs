using VmDebug.Engine.GuestKernel;

namespace VmDebug.Engine.Pstore;

/// <summary>
/// Get-GuestPstore's inputs: the guest, and any part of the ramoops layout to use instead of the guest's command
/// line. Given MemAddress and MemSize, the command line only fills in what else is left unset.
/// </summary>
public sealed record PstoreRequest
{
    public required GuestKernelTarget Target { get; init; }
    public ulong? MemAddress { get; init; }
    public ulong? MemSize { get; init; }
    public ulong? RecordSize { get; init; }
    public ulong? ConsoleSize { get; init; }
    public ulong? FtraceSize { get; init; }
    public ulong? PmsgSize { get; init; }

    /// <summary>Parity bytes per block, or 1 for 16 as ramoops.ecc=1 means; 0: none.</summary>
    public int? Ecc { get; init; }
}
