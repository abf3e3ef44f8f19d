using System.Buffers;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.Dump;

/// <summary>
/// The ELF file a streaming dump writes as pages arrive, in the layout makedumpfile and crash expect (program
/// headers at 64, one PT_NOTE, one PT_LOAD per range: <see cref="ElfVmcoreWriter"/>'s layout), zero pages left as
/// holes, so the file takes the disk space of the guest's non-zero memory only.
/// </summary>
internal sealed class StreamedElfFile
{
    private const ushort EmX8664 = 62;
    private const uint PfRwx = 7;
    private readonly FileStream _output;
    private readonly ElfStreamHead _head;
    private readonly long[] _loadOffsets;

    public StreamedElfFile(FileStream output, ElfStreamHead head)
    {
        _output = output;
        _head = head;
        var ranges = head.Ranges;
        var notes = ElfNotes.Serialize(head.Notes);
        var phnum = 1 + ranges.Count;
        var extended = phnum >= ElfLayout.PnXnum;
        var notesOffset = ElfLayout.EhdrSize + (long)phnum * ElfProgramHeader.Size + (extended ? ElfLayout.ShdrSize : 0);
        var cursor = FileAlignment.AlignUp(notesOffset + notes.Length, head.PageSize);
        var headers = new List<ElfProgramHeader> { new(ElfProgramHeader.PtNote, 0, (ulong)notesOffset, 0, 0, (ulong)notes.Length, (ulong)notes.Length, 0) };
        _loadOffsets = new long[ranges.Count];
        for (var i = 0; i < ranges.Count; i++)
        {
            _loadOffsets[i] = cursor;
            headers.Add(new ElfProgramHeader(ElfProgramHeader.PtLoad, PfRwx, (ulong)cursor, 0, ranges[i].Start, ranges[i].Length, ranges[i].Length, 0));
            cursor += (long)ranges[i].Length;
        }
        FileEnd = cursor;
        var start = ElfVmcoreWriter.BuildHeaders(headers, extended, EmX8664);
        RandomAccess.Write(output.SafeFileHandle, start, 0);
        RandomAccess.Write(output.SafeFileHandle, notes, notesOffset);
    }

    public long FileEnd { get; }

    /// <summary>Which pages of a batch are all zeros (any thread).</summary>
    public ScannedBatch Scan(StreamedBatch batch)
    {
        var zero = new bool[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            zero[i] = !batch.Pages.AsSpan(i * _head.PageSize, _head.PageSize).ContainsAnyExcept((byte)0);
        }
        return new ScannedBatch(batch, zero);
    }

    /// <summary>Writes a batch's non-zero runs in place and returns its buffer to the pool.</summary>
    public void Write(ScannedBatch scanned)
    {
        var (batch, zero) = scanned;
        try
        {
            var pageSize = _head.PageSize;
            var address = batch.FirstPfn * (ulong)pageSize;
            var range = RangeOf(address);
            var fileStart = _loadOffsets[range] + (long)(address - _head.Ranges[range].Start);
            for (var i = 0; i < batch.Count;)
            {
                if (zero[i])
                {
                    i++;
                    continue;
                }
                var j = i;
                while (j < batch.Count && !zero[j])
                {
                    j++;
                }
                // The last page of a range may be partial.
                var bytes = (int)Math.Min((long)(j - i) * pageSize, (long)(_head.Ranges[range].End - address) - (long)i * pageSize);
                RandomAccess.Write(_output.SafeFileHandle, batch.Pages.AsSpan(i * pageSize, bytes), fileStart + (long)i * pageSize);
                i = j;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(batch.Pages);
        }
    }

    public void Finish() => _output.SetLength(FileEnd);

    private int RangeOf(ulong address)
    {
        var ranges = _head.Ranges;
        int lo = 0, hi = ranges.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (ranges[mid].End <= address)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo;
    }
}

/// <summary>A streamed batch with its zero pages marked.</summary>
internal sealed record ScannedBatch(StreamedBatch Batch, bool[] Zero);
