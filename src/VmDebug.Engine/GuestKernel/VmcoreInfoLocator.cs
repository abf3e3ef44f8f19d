using System.Buffers.Binary;
using System.Text;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.GuestKernel;

/// <summary>
/// Finds the guest kernel's VMCOREINFO note in its RAM, as the QEMU vmcoreinfo device would have handed it over,
/// for dumps and cores made without that device and for live guests. The kernel keeps it in a page-aligned buffer
/// (kernel/vmcore_info.c: vmcoreinfo_note = alloc_pages_exact(...)), an ELF note: namesz 11, type 0, name
/// "VMCOREINFO", text from "OSRELEASE=". Only page starts are looked at, and every candidate is validated
/// (printable release, 4 KiB pages, kernel-half symbols, init_uts_ns holding the same release) before it is trusted.
/// </summary>
public static class VmcoreInfoLocator
{
    private const int Page = 4096;
    private const int ChunkBytes = 1 << 20;
    private const int MaxTextBytes = 4 * Page; // the kernel's text buffer is one page (VMCOREINFO_BYTES)
    private const ulong KernelHalf = 0xffff800000000000;
    private const int UtsReleaseOffset = 2 * 65; // struct new_utsname: sysname[65], nodename[65], release[65]
    private const int MaxRejections = 16;

    private static ReadOnlySpan<byte> NoteHead => [11, 0, 0, 0];
    private static ReadOnlySpan<byte> NoteName => "VMCOREINFO\0\0"u8;
    private static ReadOnlySpan<byte> TextStart => "OSRELEASE="u8;

    /// <summary>
    /// Scans every page start of <paramref name="memory"/>'s ranges; returns the first valid note, or null with the
    /// rejected candidates (at most 16) described in <paramref name="rejected"/>.
    /// </summary>
    public static LocatedVmcoreInfo? Find(IGuestPhysicalMemory memory, List<string> rejected, CancellationToken cancellationToken)
    {
        var buffer = new byte[ChunkBytes];
        foreach (var range in memory.Ranges)
        {
            var first = (range.Start + Page - 1) / Page * Page;
            for (var chunk = first; chunk < range.End; chunk += ChunkBytes)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var length = (int)Math.Min(ChunkBytes, (range.End - chunk) / Page * Page);
                if (length == 0)
                {
                    break;
                }
                var whole = memory.TryRead(chunk, buffer.AsSpan(0, length));
                for (var at = 0; at < length; at += Page)
                {
                    // A chunk with an absent page (a kdump's excluded pages) is looked at page by page.
                    if (!whole && !memory.TryRead(chunk + (ulong)at, buffer.AsSpan(at, Page)))
                    {
                        continue;
                    }
                    var head = buffer.AsSpan(at, Page);
                    if (!head.StartsWith(NoteHead) || BinaryPrimitives.ReadUInt32LittleEndian(head[8..]) != 0
                        || !head[12..].StartsWith(NoteName) || !head[24..].StartsWith(TextStart))
                    {
                        continue;
                    }
                    var found = Validate(memory, chunk + (ulong)at, BinaryPrimitives.ReadUInt32LittleEndian(head[4..]), rejected);
                    if (found is not null)
                    {
                        return found;
                    }
                }
            }
        }
        return null;
    }

    private static LocatedVmcoreInfo? Validate(IGuestPhysicalMemory memory, ulong physical, uint textBytes, List<string> rejected)
    {
        void Reject(string reason)
        {
            if (rejected.Count < MaxRejections)
            {
                rejected.Add($"0x{physical:x}: {reason}");
            }
        }
        if (textBytes < TextStart.Length || textBytes > MaxTextBytes)
        {
            Reject($"note text size {textBytes} is out of bounds");
            return null;
        }
        var text = new byte[textBytes];
        if (!memory.TryRead(physical + 24, text))
        {
            Reject("the note text runs past guest RAM");
            return null;
        }
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
        foreach (var key in info.Values.Keys.Where(k => k.StartsWith("SYMBOL(", StringComparison.Ordinal)))
        {
            if (info.Symbol(key[7..^1]) is not >= KernelHalf)
            {
                Reject($"{key} is not a kernel address");
                return null;
            }
        }
        if (info.Symbol("init_uts_ns") is not { } utsns || utsns < KernelMemoryView.StartKernelMap)
        {
            Reject("SYMBOL(init_uts_ns) is missing or outside the kernel image");
            return null;
        }
        // The kernel image maps at __START_KERNEL_map + phys_base, so init_uts_ns's release is readable physically;
        // it must equal OSRELEASE or this note is not the running kernel's (a stale copy, a crafted page).
        var physBase = info.PhysBase ?? 0;
        var nameOffset = info.Offset("uts_namespace", "name") ?? 0;
        var releaseAddress = unchecked(utsns - KernelMemoryView.StartKernelMap + (ulong)physBase + nameOffset + UtsReleaseOffset);
        Span<byte> release = stackalloc byte[65];
        if (!memory.TryRead(releaseAddress, release))
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
}
