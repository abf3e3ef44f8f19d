using VmDebug.Engine.Compression;
using VmDebug.Engine.Dump;

namespace VmDebug.Engine.Vmcore;

/// <summary>Writes the parts of a kdump file that depend on the pages written: header, sub-header, notes, bitmaps.</summary>
internal static class KdumpHeaders
{
    private const string Machine = "x86_64";
    private const int NtPrstatus = 1;

    public static async Task WriteAsync(Stream output, KdumpFileLayout layout, SparseBitmap dumpable, PageCompression compression, int dumpLevel,
        VmcoreInfo? info, IReadOnlyList<ElfNote> notes, CancellationToken cancellationToken)
    {
        var header = new DiskDumpHeader
        {
            Utsname = ["Linux", "", info?.OsRelease ?? "", "", Machine, ""],
            Timestamp = DateTimeOffset.UtcNow,
            Status = DumpFormats.OfCompression(compression)?.HeaderStatus ?? 0,
            BlockSize = layout.PageSize,
            SubHeaderBlocks = layout.SubHeaderBlocks,
            BitmapBlocks = layout.BitmapBlocks,
            MaxMapnr32 = (uint)Math.Min(layout.MaxMapnr, uint.MaxValue),
            NrCpus = Math.Max(1, notes.Count(n => n.Type == NtPrstatus && n.Name == "CORE")),
        };
        var sub = new KdumpSubHeader
        {
            PhysBase = info?.PhysBase ?? 0,
            DumpLevel = dumpLevel,
            EndPfn = Math.Min(layout.MaxMapnr, uint.MaxValue),
            OffsetVmcoreinfo = layout.VmcoreInfo.Length > 0 ? layout.VmcoreInfoOffset : 0,
            SizeVmcoreinfo = layout.VmcoreInfo.Length,
            OffsetNote = layout.Notes.Length > 0 ? layout.NoteOffset : 0,
            SizeNote = layout.Notes.Length,
            EndPfn64 = layout.MaxMapnr,
            MaxMapnr64 = layout.MaxMapnr,
        };
        var headerBytes = new byte[KdumpLayout.DiskDumpHeaderSize];
        header.Write(headerBytes);
        var subBytes = new byte[KdumpLayout.SubHeaderSize];
        sub.Write(subBytes);

        output.Seek(0, SeekOrigin.Begin);
        await output.WriteAsync(headerBytes, cancellationToken).ConfigureAwait(false);
        output.Seek(layout.PageSize, SeekOrigin.Begin);
        await output.WriteAsync(subBytes, cancellationToken).ConfigureAwait(false);
        await output.WriteAsync(layout.Notes, cancellationToken).ConfigureAwait(false);
        await output.WriteAsync(layout.VmcoreInfo, cancellationToken).ConfigureAwait(false);
        await layout.Present.WriteAsync(output, layout.BitmapOffset, layout.BitmapBytes, cancellationToken).ConfigureAwait(false);
        await dumpable.WriteAsync(output, layout.BitmapOffset + layout.BitmapBytes, layout.BitmapBytes, cancellationToken).ConfigureAwait(false);
    }
}
