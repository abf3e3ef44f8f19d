namespace VmDebug.Engine.ProcessCore;

/// <summary>What Get-QemuCoreDump found: the QEMU cores, and one error per path that could not be listed.</summary>
public sealed class QemuCoreDumpListing
{
    public required IReadOnlyList<VmDebug.QemuProcessCore> Cores { get; init; }

    public required IReadOnlyList<VmDebugException> Errors { get; init; }
}
