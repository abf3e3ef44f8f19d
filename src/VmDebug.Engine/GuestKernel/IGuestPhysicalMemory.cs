using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.GuestKernel;

/// <summary>
/// Byte-addressed guest-physical memory: a dump, a QEMU process core, or a live guest read through QMP or libvirt.
/// The kernel memory view and the VMCOREINFO scanner need nothing more.
/// </summary>
public interface IGuestPhysicalMemory
{
    /// <summary>Names the source for messages and for <c>KmsgRecord.Guest</c>: a path, a socket, a domain.</summary>
    string Name { get; }

    /// <summary>Guest-physical ranges that hold RAM, sorted.</summary>
    IReadOnlyList<PhysicalRange> Ranges { get; }

    /// <summary>
    /// Reads <paramref name="buffer"/>.Length bytes at <paramref name="address"/>. False when any of it is not in the
    /// source (outside RAM, or a page the dump left out); the buffer's content is then undefined.
    /// </summary>
    bool TryRead(ulong address, Span<byte> buffer);

    /// <summary>
    /// How much readers that walk a structure ask for at once. A dump's reads are cheap, and what costs is the fresh
    /// memory they fill (a page fault a page), so a few pages; a live guest's each cost a QMP or libvirt round trip.
    /// </summary>
    int ReadBatchBytes => 16 * 1024;
}
