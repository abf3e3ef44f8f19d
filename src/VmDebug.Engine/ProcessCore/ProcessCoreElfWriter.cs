using Microsoft.Win32.SafeHandles;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.ProcessCore;

/// <summary>
/// Writes the ELF vmcore of a QEMU process core with QEMU's RAM block stored as one piece, in RAM-block order, at
/// a fixed file offset: each guest-physical RAM range's PT_LOAD points into it (p_offset = start + RAM offset),
/// and device memory (video RAM, ROMs) follows it. Guest RAM can then be written before the core says where it
/// lies in guest-physical space (a compressed core's command line is at its very end), in the one pass that
/// decompresses it. Ehdr and program headers at offset 64 and PT_NOTE first, as makedumpfile and crash expect;
/// zero pages are holes. Plain and compressed cores of one guest give the same bytes.
/// </summary>
internal static class ProcessCoreElfWriter
{
    /// <summary>Where RAM starts: room for the headers and notes of any layout QEMU builds (a hole in the file).</summary>
    public const long RamDataOffset = 1 << 20;

    private const int Page = 4096;
    private const int CopyBytes = 1 << 20;
    private const ushort EmX8664 = 62;
    private const uint PfRwx = 7;

    /// <summary>Writes bytes of the RAM block at <paramref name="ramOffset"/>.</summary>
    public static void WriteRam(SafeFileHandle output, long ramOffset, ReadOnlySpan<byte> data) =>
        RandomAccess.Write(output, data, RamDataOffset + ramOffset);

    /// <summary>False when the headers and notes would not fit before the RAM (then <see cref="ElfVmcoreWriter"/> writes it).</summary>
    public static bool Fits(ProcessCoreGuestMemory memory) =>
        memory.Ranges.Count + 1 < ElfLayout.PnXnum
        && HeadersEnd(memory.Ranges.Count + 1) + ElfNotes.Serialize(memory.Notes).Length <= RamDataOffset;

    /// <summary>Copies the non-zero pages of a plain core's RAM block, front to back.</summary>
    public static void CopyRam(ProcessCoreGuestMemory memory, SafeFileHandle output, Action<long, long> progress, CancellationToken cancellationToken)
    {
        var ram = memory.RamSegment;
        var total = memory.DataBytes;
        long done = 0;
        var buffer = GC.AllocateUninitializedArray<byte>(CopyBytes);
        foreach (var extent in memory.Extents)
        {
            for (var from = extent.Start; from < extent.End; from += CopyBytes)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var length = (int)Math.Min(CopyBytes, extent.End - from);
                var ramOffset = from - ram.FileOffset;
                var chunk = buffer.AsSpan(0, length);
                memory.ReadRam((ulong)ramOffset, chunk);
                WriteNonZeroRuns(output, RamDataOffset + ramOffset, chunk);
                done += length;
                progress(done, total);
            }
        }
    }

    /// <summary>Writes device memory, notes and headers around RAM already in place, and sets the file's length.</summary>
    public static void Finish(ProcessCoreGuestMemory memory, FileStream output)
    {
        PageBatches.Validate(memory);
        PhysicalBounds.CheckSource(memory);
        var notes = ElfNotes.Serialize(memory.Notes);
        var loads = new List<ElfProgramHeader>();
        foreach (var range in memory.Layout)
        {
            loads.Add(Load(range.GuestPhysical, range.Length, RamDataOffset + (long)range.RamOffset));
        }
        var deviceOffset = RamDataOffset + FileAlignment.AlignUp((long)memory.RamSegment.FileSize, Page);
        var page = new byte[Page];
        foreach (var device in memory.Devices.OrderBy(d => d.GuestPhysical))
        {
            loads.Add(Load(device.GuestPhysical, device.Length, deviceOffset));
            for (var address = device.GuestPhysical; address < device.End; address += Page)
            {
                memory.ReadPage(address / Page, page);
                var length = (int)Math.Min(Page, device.End - address);
                WriteNonZeroRuns(output.SafeFileHandle, deviceOffset + (long)(address - device.GuestPhysical), page.AsSpan(0, length));
            }
            deviceOffset += FileAlignment.AlignUp((long)device.Length, Page);
        }
        loads.Sort((a, b) => a.PhysicalAddress.CompareTo(b.PhysicalAddress));
        var notesOffset = HeadersEnd(loads.Count + 1);
        var headers = new List<ElfProgramHeader> { new(ElfProgramHeader.PtNote, 0, (ulong)notesOffset, 0, 0, (ulong)notes.Length, (ulong)notes.Length, 0) };
        headers.AddRange(loads);
        RandomAccess.Write(output.SafeFileHandle, ElfVmcoreWriter.BuildHeaders(headers, extended: false, EmX8664), 0);
        RandomAccess.Write(output.SafeFileHandle, notes, notesOffset);
        output.SetLength(Math.Max(deviceOffset, loads.Max(l => (long)(l.Offset + l.FileSize))));
    }

    private static ElfProgramHeader Load(ulong guestPhysical, ulong length, long offset) =>
        // p_vaddr 0 as QEMU writes with paging=false: a physical dump has no one virtual mapping to state.
        new(ElfProgramHeader.PtLoad, PfRwx, (ulong)offset, 0, guestPhysical, length, length, 0);

    private static long HeadersEnd(int programHeaders) => ElfLayout.EhdrSize + (long)programHeaders * ElfProgramHeader.Size;

    /// <summary>Writes the runs of non-zero pages of <paramref name="data"/>; zero pages stay holes.</summary>
    internal static void WriteNonZeroRuns(SafeFileHandle output, long offset, ReadOnlySpan<byte> data)
    {
        var runStart = -1;
        for (var at = 0; at < data.Length; at += Page)
        {
            var nonZero = data.Slice(at, Math.Min(Page, data.Length - at)).ContainsAnyExcept((byte)0);
            if (nonZero && runStart < 0)
            {
                runStart = at;
            }
            else if (!nonZero && runStart >= 0)
            {
                RandomAccess.Write(output, data[runStart..at], offset + runStart);
                runStart = -1;
            }
        }
        if (runStart >= 0)
        {
            RandomAccess.Write(output, data[runStart..], offset + runStart);
        }
    }
}
