using System.Buffers.Binary;
using System.Text;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.ProcessCore;

/// <summary>A VMCOREINFO note found in guest RAM and checked against the guest's own memory.</summary>
internal sealed record LocatedVmcoreInfo(ElfNote Note, VmcoreInfo Info, ulong PhysicalAddress);

/// <summary>
/// Finds the guest kernel's VMCOREINFO note in its RAM, as the QEMU vmcoreinfo device would have handed it over.
/// The kernel keeps it in a page-aligned buffer (kernel/vmcore_info.c: vmcoreinfo_note = alloc_pages_exact(...)),
/// an ELF note: namesz 11, type 0, name "VMCOREINFO", text from "OSRELEASE=". Only page starts are looked at, only
/// data extents are read, and every candidate is validated before it is trusted.
/// </summary>
internal static class VmcoreInfoLocator
{
    private const int Page = 4096;
    private const int ChunkBytes = 1 << 20;
    private const int MaxTextBytes = 4 * Page; // the kernel's text buffer is one page (VMCOREINFO_BYTES)
    private const ulong StartKernelMap = 0xffffffff80000000; // x86_64 __START_KERNEL_map
    private const ulong KernelHalf = 0xffff800000000000;
    private const int UtsReleaseOffset = 2 * 65; // struct new_utsname: sysname[65], nodename[65], release[65]

    private static ReadOnlySpan<byte> NoteHead => [11, 0, 0, 0];
    private static ReadOnlySpan<byte> NoteName => "VMCOREINFO\0\0"u8;
    private static ReadOnlySpan<byte> TextStart => "OSRELEASE="u8;

    public static LocatedVmcoreInfo? Find(ProcessCoreGuestMemory memory, SparseFile file, List<string> rejected, CancellationToken cancellationToken)
    {
        var ram = memory.RamSegment;
        var buffer = new byte[ChunkBytes];
        foreach (var extent in memory.Extents)
        {
            // Page starts inside the extent, relative to the RAM segment (its file offset is page aligned).
            var first = AlignUp(extent.Start - ram.FileOffset, Page);
            for (var chunk = first; chunk + ram.FileOffset < extent.End; chunk += ChunkBytes)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var length = (int)Math.Min(ChunkBytes, extent.End - ram.FileOffset - chunk);
                var n = file.Read(ram.FileOffset + chunk, buffer.AsSpan(0, length));
                for (var at = 0; at + 24 + TextStart.Length <= n; at += Page)
                {
                    var head = buffer.AsSpan(at);
                    if (!head.StartsWith(NoteHead) || BinaryPrimitives.ReadUInt32LittleEndian(head[8..]) != 0
                        || !head[12..].StartsWith(NoteName) || !head[24..].StartsWith(TextStart))
                    {
                        continue;
                    }
                    var found = Validate(memory, (ulong)(chunk + at), BinaryPrimitives.ReadUInt32LittleEndian(head[4..]), rejected);
                    if (found is not null)
                    {
                        return found;
                    }
                }
            }
        }
        return null;
    }

    private static LocatedVmcoreInfo? Validate(ProcessCoreGuestMemory memory, ulong ramOffset, uint textBytes, List<string> rejected)
    {
        if (memory.ToPhysical(ramOffset) is not { } physical)
        {
            return null; // RAM the guest cannot see (outside every range)
        }
        string Reject(string reason)
        {
            if (rejected.Count < 16)
            {
                rejected.Add($"0x{physical:x}: {reason}");
            }
            return reason;
        }
        if (textBytes < TextStart.Length || textBytes > MaxTextBytes || ramOffset + 24 + textBytes > memory.RamSegment.FileSize)
        {
            Reject($"note text size {textBytes} is out of bounds");
            return null;
        }
        var text = new byte[textBytes];
        memory.ReadRam(ramOffset + 24, text);
        var info = VmcoreInfo.Parse(text);
        if (string.IsNullOrEmpty(info.OsRelease) || info.OsRelease.Any(c => c < 0x20 || c > 0x7e) || info.OsRelease.Length > 64)
        {
            Reject("OSRELEASE is missing or not printable");
            return null;
        }
        if (info.PageSize != Page)
        {
            Reject($"PAGESIZE is {info.Get("PAGESIZE") ?? "missing"}, not 4096");
            return null;
        }
        var symbols = info.Values.Where(v => v.Key.StartsWith("SYMBOL(", StringComparison.Ordinal)).ToList();
        foreach (var (key, _) in symbols)
        {
            var value = info.Symbol(key[7..^1]);
            if (value is null || value < KernelHalf)
            {
                Reject($"{key} is not a kernel address");
                return null;
            }
        }
        if (info.Symbol("init_uts_ns") is not { } utsns || utsns < StartKernelMap)
        {
            Reject("SYMBOL(init_uts_ns) is missing or outside the kernel image");
            return null;
        }
        // The kernel image maps at __START_KERNEL_map + phys_base, so init_uts_ns's release is readable physically;
        // it must equal OSRELEASE or this note is not the running kernel's (a stale copy, a crafted page).
        var physBase = info.PhysBase ?? 0;
        var nameOffset = info.Offset("uts_namespace", "name") ?? 0;
        var releaseAddress = unchecked(utsns - StartKernelMap + (ulong)physBase + nameOffset + UtsReleaseOffset);
        Span<byte> release = stackalloc byte[65];
        if (!memory.ReadPhysical(releaseAddress, release))
        {
            Reject($"init_uts_ns (physical 0x{releaseAddress:x} with phys_base {physBase}) is outside guest RAM");
            return null;
        }
        var nul = release.IndexOf((byte)0);
        var actual = Encoding.ASCII.GetString(nul >= 0 ? release[..nul] : release);
        if (actual != info.OsRelease)
        {
            Reject($"init_uts_ns holds release '{Sanitize(actual)}', not OSRELEASE '{info.OsRelease}'");
            return null;
        }
        return new LocatedVmcoreInfo(new ElfNote(VmcoreInfo.NoteName, 0, text), info, physical);
    }

    private static string Sanitize(string text) => new(text.Select(c => c < 0x20 || c > 0x7e ? '?' : c).ToArray());

    private static long AlignUp(long value, long alignment) => (value + alignment - 1) / alignment * alignment;
}
