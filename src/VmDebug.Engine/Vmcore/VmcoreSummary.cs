using VmDebug.Engine.Vmcore;

namespace VmDebug;

/// <summary>What a dump file holds, as Get-VmCore / `vmdebug vmcore info` report it.</summary>
public sealed class VmcoreSummary
{
    public required string Path { get; init; }
    public required VmcoreFormat Format { get; init; }
    public required long FileBytes { get; init; }
    public required int PageSize { get; init; }
    public required IReadOnlyList<PhysicalRange> Ranges { get; init; }

    /// <summary>Bytes of guest-physical memory the ranges cover.</summary>
    public required ulong RamBytes { get; init; }

    /// <summary>Pages stored (kdump only; excluded pages are not counted).</summary>
    public long? DumpedPages { get; init; }

    public required bool HasVmcoreInfo { get; init; }
    public string? OsRelease { get; init; }

    /// <summary>phys_base from VMCOREINFO NUMBER(phys_base), the value to trust.</summary>
    public long? PhysBase { get; init; }

    /// <summary>phys_base as a kdump sub-header states it.</summary>
    public long? HeaderPhysBase { get; init; }

    public required int NoteCount { get; init; }

    /// <summary>Codes of the repairs <c>Repair-VmCore</c> would apply (empty when peers read the file as is).</summary>
    public required IReadOnlyList<string> NeededRepairs { get; init; }
}
