using VmDebug.Engine.ProcessCore;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.GuestKernel;

/// <summary>
/// An opened guest kernel: its physical memory, its VMCOREINFO (from the dump's note, or found in its RAM), its
/// CPU notes, and the virtual view over them. Opened from a dump, a QEMU process core or a live guest.
/// </summary>
public sealed class GuestKernelSession : IDisposable
{
    private readonly IDisposable? _owned;

    public GuestKernelSession(IGuestPhysicalMemory memory, VmcoreInfo vmcoreInfo, IReadOnlyList<ElfNote> notes,
        ulong? vmcoreInfoFoundAt, IReadOnlyList<string> warnings, IDisposable? owned = null)
    {
        Memory = memory;
        VmcoreInfo = vmcoreInfo;
        Notes = notes;
        VmcoreInfoFoundAt = vmcoreInfoFoundAt;
        Warnings = warnings;
        _owned = owned;
        View = new KernelMemoryView(memory, vmcoreInfo);
    }

    /// <summary>The path, socket or domain read.</summary>
    public string Source => Memory.Name;

    public IGuestPhysicalMemory Memory { get; }

    public VmcoreInfo VmcoreInfo { get; }

    /// <summary>Notes of the source (QEMU CPU state, NT_PRSTATUS); empty for process cores and live guests.</summary>
    public IReadOnlyList<ElfNote> Notes { get; }

    /// <summary>Guest-physical address where VMCOREINFO was found in RAM; null when the source carried the note.</summary>
    public ulong? VmcoreInfoFoundAt { get; }

    public IReadOnlyList<string> Warnings { get; }

    public KernelMemoryView View { get; }

    /// <summary>Opens a vmcore (ELF, kdump in any codec, flattened); VMCOREINFO from its note or else from its RAM.</summary>
    public static GuestKernelSession OpenDump(string path, CancellationToken cancellationToken)
    {
        var fullPath = Path.GetFullPath(path);
        var reader = VmcoreFile.Open(fullPath);
        try
        {
            var memory = new DumpPhysicalMemory(reader, fullPath);
            return Create(memory, reader.VmcoreInfo, reader.Notes, reader, cancellationToken);
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    /// <summary>Opens a QEMU process core (dump-guest-core=on) and reads the guest's RAM out of it.</summary>
    public static GuestKernelSession OpenProcessCore(string path, string? guestMemoryLayout, CancellationToken cancellationToken)
    {
        var fullPath = Path.GetFullPath(path);
        var core = ProcessCoreFile.Open(fullPath);
        try
        {
            core.RequireComplete();
            var analysis = QemuCoreAnalysis.Analyze(core, guestMemoryLayout);
            if (!analysis.IncludesGuestRam)
            {
                throw new ProcessCoreException(ProcessCoreException.NoGuestRam, ErrorKind.InvalidData, fullPath,
                    "the core does not contain guest RAM (QEMU ran with dump-guest-core=off), so the guest's kernel log is not in it.");
            }
            var ram = analysis.RamSegment;
            var extents = core.File.DataExtents(ram.FileOffset, ram.FileOffset + (long)ram.FileSize, cancellationToken);
            var memory = new DumpPhysicalMemory(new ProcessCoreGuestMemory(core.File, ram, analysis.Layout, extents), fullPath);
            return Create(memory, null, [], core, cancellationToken);
        }
        catch
        {
            core.Dispose();
            throw;
        }
    }

    /// <summary>Opens any physical memory (live guests); VMCOREINFO is then looked for in its RAM.</summary>
    public static GuestKernelSession Create(IGuestPhysicalMemory memory, VmcoreInfo? vmcoreInfo, IReadOnlyList<ElfNote> notes,
        IDisposable? owned, CancellationToken cancellationToken)
    {
        var warnings = new List<string>();
        ulong? foundAt = null;
        if (vmcoreInfo is null)
        {
            var rejected = new List<string>();
            var located = VmcoreInfoLocator.Find(memory, rejected, cancellationToken)
                ?? throw new GuestKernelException(GuestKernelException.NoVmcoreInfo, ErrorKind.ObjectNotFound, memory.Name,
                    "there is no VMCOREINFO note (the guest had no -device vmcoreinfo, or its kernel no qemu_fw_cfg) and none was found in guest RAM"
                    + (rejected.Count > 0 ? "; rejected candidates: " + string.Join("; ", rejected) : "") + ".");
            vmcoreInfo = located.Info;
            foundAt = located.PhysicalAddress;
        }
        return new GuestKernelSession(memory, vmcoreInfo, notes, foundAt, warnings, owned);
    }

    public void Dispose() => _owned?.Dispose();
}
