using System.Buffers;
using System.Buffers.Binary;

namespace VmDebug.Engine.Vmcore;

/// <summary>
/// Writes an ELF64 vmcore in the layout makedumpfile and crash expect: Ehdr, program headers at offset 64,
/// PT_NOTE first (every note, VMCOREINFO included), then one PT_LOAD per range with p_paddr set.
/// All-zero and absent pages are left as holes when the output can seek.
/// </summary>
public static class ElfVmcoreWriter
{
    private const ushort EmX8664 = 62;
    private const uint PfRwx = 7;

    public static async Task WriteAsync(IGuestMemorySource source, Stream output, IProgress<OperationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(output);
        if (!output.CanSeek)
        {
            throw new ArgumentException("the output stream must be seekable", nameof(output));
        }
        PageBatches.Validate(source);
        PhysicalBounds.CheckSource(source);
        var pageSize = source.PageSize;
        var ranges = source.Ranges;
        var notes = ElfNotes.Serialize(source.Notes);
        var phnum = 1 + ranges.Count;
        var extended = phnum >= ElfLayout.PnXnum;
        var headerEnd = ElfLayout.EhdrSize + (long)phnum * ElfProgramHeader.Size + (extended ? ElfLayout.ShdrSize : 0);
        var notesOffset = headerEnd;
        var dataOffset = FileAlignment.AlignUp(notesOffset + notes.Length, pageSize);

        var headers = new List<ElfProgramHeader> { new(ElfProgramHeader.PtNote, 0, (ulong)notesOffset, 0, 0, (ulong)notes.Length, (ulong)notes.Length, 0) };
        var loadOffsets = new long[ranges.Count];
        var cursor = dataOffset;
        for (var i = 0; i < ranges.Count; i++)
        {
            loadOffsets[i] = cursor;
            // p_vaddr 0 as QEMU writes with paging=false: a physical dump has no one virtual mapping to state.
            headers.Add(new ElfProgramHeader(ElfProgramHeader.PtLoad, PfRwx, (ulong)cursor, 0, ranges[i].Start, ranges[i].Length, ranges[i].Length, 0));
            cursor += (long)ranges[i].Length;
        }
        var fileEnd = cursor;

        var head = BuildHeaders(headers, extended, EmX8664);
        output.Seek(0, SeekOrigin.Begin);
        await output.WriteAsync(head, cancellationToken).ConfigureAwait(false);
        await output.WriteAsync(notes, cancellationToken).ConfigureAwait(false);

        var total = (long)PageBatches.TotalBytes(ranges);
        var reporter = new ProgressReporter(progress, "Writing ELF vmcore", total);
        var batches = PageBatches.Plan(ranges, pageSize);
        long done = 0;
        await PagePipeline.RunAsync(batches.Count,
            index => ReadBatch(source, batches[index], pageSize),
            async batch =>
            {
                try
                {
                    await WriteBatchAsync(output, batch, ranges[batch.Batch.RangeIndex], loadOffsets[batch.Batch.RangeIndex], pageSize, cancellationToken)
                        .ConfigureAwait(false);
                    done += batch.Batch.Count * (long)pageSize;
                    reporter.Report("Writing pages", Math.Min(done, total));
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(batch.Pages);
                }
            },
            Environment.ProcessorCount, cancellationToken).ConfigureAwait(false);
        output.SetLength(fileEnd);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        reporter.Complete("Done", total);
    }

    private sealed record ReadResult(PageBatch Batch, byte[] Pages, bool[] Empty);

    private static ReadResult ReadBatch(IGuestMemorySource source, PageBatch batch, int pageSize)
    {
        var pages = ArrayPool<byte>.Shared.Rent(batch.Count * pageSize);
        var empty = new bool[batch.Count];
        var zeros = source as IKnownZeroPages;
        for (var i = 0; i < batch.Count; i++)
        {
            if (zeros?.KnownZeroPages(batch.FirstPfn + (ulong)i, batch.Count - i) is > 0 and var run)
            {
                empty.AsSpan(i, run).Fill(true);
                i += run - 1;
                continue;
            }
            var page = pages.AsSpan(i * pageSize, pageSize);
            empty[i] = !source.ReadPage(batch.FirstPfn + (ulong)i, page) || !page.ContainsAnyExcept((byte)0);
        }
        return new ReadResult(batch, pages, empty);
    }

    private static async ValueTask WriteBatchAsync(Stream output, ReadResult result, PhysicalRange range, long loadOffset, int pageSize,
        CancellationToken cancellationToken)
    {
        // Coalesce consecutive non-empty pages into one write; empty ones stay holes.
        var i = 0;
        while (i < result.Batch.Count)
        {
            if (result.Empty[i])
            {
                i++;
                continue;
            }
            var j = i;
            while (j < result.Batch.Count && !result.Empty[j])
            {
                j++;
            }
            var from = Math.Max(range.Start, (result.Batch.FirstPfn + (ulong)i) * (ulong)pageSize);
            var to = Math.Min(range.End, (result.Batch.FirstPfn + (ulong)j) * (ulong)pageSize);
            var bufferStart = (int)(from - result.Batch.FirstPfn * (ulong)pageSize);
            output.Seek(loadOffset + (long)(from - range.Start), SeekOrigin.Begin);
            await output.WriteAsync(result.Pages.AsMemory(bufferStart, (int)(to - from)), cancellationToken).ConfigureAwait(false);
            i = j;
        }
    }

    internal static byte[] BuildHeaders(IReadOnlyList<ElfProgramHeader> headers, bool extended, ushort machine)
    {
        var size = ElfLayout.EhdrSize + headers.Count * ElfProgramHeader.Size + (extended ? ElfLayout.ShdrSize : 0);
        var buffer = new byte[size];
        var e = buffer.AsSpan();
        "\u007fELF"u8.CopyTo(e);
        e[4] = 2; // ELFCLASS64
        e[5] = 1; // ELFDATA2LSB
        e[6] = 1; // EV_CURRENT
        BinaryPrimitives.WriteUInt16LittleEndian(e[16..], 4); // ET_CORE
        BinaryPrimitives.WriteUInt16LittleEndian(e[18..], machine);
        BinaryPrimitives.WriteUInt32LittleEndian(e[20..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(e[32..], ElfLayout.EhdrSize);
        var shoff = extended ? ElfLayout.EhdrSize + headers.Count * ElfProgramHeader.Size : 0;
        BinaryPrimitives.WriteUInt64LittleEndian(e[40..], (ulong)shoff);
        BinaryPrimitives.WriteUInt16LittleEndian(e[52..], ElfLayout.EhdrSize);
        BinaryPrimitives.WriteUInt16LittleEndian(e[54..], ElfProgramHeader.Size);
        BinaryPrimitives.WriteUInt16LittleEndian(e[56..], extended ? ElfLayout.PnXnum : (ushort)headers.Count);
        BinaryPrimitives.WriteUInt16LittleEndian(e[58..], extended ? (ushort)ElfLayout.ShdrSize : (ushort)0);
        BinaryPrimitives.WriteUInt16LittleEndian(e[60..], extended ? (ushort)1 : (ushort)0);
        for (var i = 0; i < headers.Count; i++)
        {
            var p = e[(ElfLayout.EhdrSize + i * ElfProgramHeader.Size)..];
            var h = headers[i];
            BinaryPrimitives.WriteUInt32LittleEndian(p, h.Type);
            BinaryPrimitives.WriteUInt32LittleEndian(p[4..], h.Flags);
            BinaryPrimitives.WriteUInt64LittleEndian(p[8..], h.Offset);
            BinaryPrimitives.WriteUInt64LittleEndian(p[16..], h.VirtualAddress);
            BinaryPrimitives.WriteUInt64LittleEndian(p[24..], h.PhysicalAddress);
            BinaryPrimitives.WriteUInt64LittleEndian(p[32..], h.FileSize);
            BinaryPrimitives.WriteUInt64LittleEndian(p[40..], h.MemorySize);
            BinaryPrimitives.WriteUInt64LittleEndian(p[48..], h.Align);
        }
        if (extended)
        {
            // Section header 0 carries the real program header count in sh_info (ELF gABI, PN_XNUM).
            BinaryPrimitives.WriteUInt32LittleEndian(e[(shoff + 44)..], (uint)headers.Count);
        }
        return buffer;
    }
}
