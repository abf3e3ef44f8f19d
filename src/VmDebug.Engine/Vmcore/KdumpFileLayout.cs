using System.Text;

namespace VmDebug.Engine.Vmcore;

/// <summary>
/// Where everything goes in a seekable kdump file, decided before any page is read: header block, sub-header with
/// notes and VMCOREINFO, the two bitmaps, room for one descriptor per present page (plus the shared zero page),
/// then page data.
/// </summary>
internal sealed class KdumpFileLayout
{
    private KdumpFileLayout(int pageSize, ulong maxMapnr, byte[] notes, byte[] vmcoreinfo, SparseBitmap present, long presentPages, long bitmapBytes)
    {
        PageSize = pageSize;
        MaxMapnr = maxMapnr;
        Notes = notes;
        VmcoreInfo = vmcoreinfo;
        Present = present;
        PresentPages = presentPages;
        BitmapBytes = bitmapBytes;
        SubHeaderBlocks = (int)(FileAlignment.AlignUp(KdumpLayout.SubHeaderSize + notes.Length + vmcoreinfo.Length, pageSize) / pageSize);
        BitmapOffset = (1L + SubHeaderBlocks) * pageSize;
        DescriptorsOffset = BitmapOffset + 2L * BitmapBytes;
        DataOffset = FileAlignment.AlignUp(DescriptorsOffset + (presentPages + 1) * KdumpLayout.PageDescSize, pageSize);
    }

    public int PageSize { get; }
    public ulong MaxMapnr { get; }
    public byte[] Notes { get; }
    public byte[] VmcoreInfo { get; }

    /// <summary>The first bitmap: pages that exist in the guest (sparse: its memory follows the pages, not the highest address).</summary>
    public SparseBitmap Present { get; }

    public long PresentPages { get; }
    public long BitmapBytes { get; }
    public int SubHeaderBlocks { get; }
    public long NoteOffset => PageSize + KdumpLayout.SubHeaderSize;
    public long VmcoreInfoOffset => NoteOffset + Notes.Length;
    public long BitmapOffset { get; }
    public long DescriptorsOffset { get; }
    public long DataOffset { get; }
    public int BitmapBlocks => (int)(2 * BitmapBytes / PageSize);

    public static KdumpFileLayout Plan(int pageSize, IReadOnlyList<PhysicalRange> ranges, IReadOnlyList<ElfNote> notes, VmcoreInfo? info)
    {
        var maxMapnr = ranges.Count == 0 ? 1 : (ranges[^1].End + (ulong)pageSize - 1) / (ulong)pageSize;
        var bitmapBytes = FileAlignment.AlignUp((long)((maxMapnr + 7) / 8), pageSize);
        if (bitmapBytes > PhysicalBounds.MaxKdumpBitmapBytes)
        {
            throw new ArgumentException($"a guest of {maxMapnr} pages needs bitmaps larger than VmDebug writes", nameof(ranges));
        }
        var present = new SparseBitmap();
        long presentPages = 0;
        foreach (var range in ranges)
        {
            var first = range.Start / (ulong)pageSize;
            var end = (range.End + (ulong)pageSize - 1) / (ulong)pageSize;
            present.SetRange(first, end);
            presentPages += (long)(end - first);
        }
        var vmcoreinfo = info is null ? [] : Encoding.UTF8.GetBytes(info.Text);
        return new KdumpFileLayout(pageSize, maxMapnr, ElfNotes.Serialize(notes), vmcoreinfo, present, presentPages, bitmapBytes);
    }
}
