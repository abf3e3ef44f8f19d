using System.Buffers;
using System.Buffers.Binary;
using System.Threading.Channels;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.Dump;

/// <summary>A run of pages as they came out of the dump stream; <see cref="Pages"/> is pooled and returned by the consumer.</summary>
internal sealed record StreamedBatch(ulong FirstPfn, int Count, byte[] Pages);

/// <summary>What the head of QEMU's ELF stream says: page size, memory ranges (merged, sorted), notes, and the loads in file order.</summary>
internal sealed record ElfStreamHead(int PageSize, IReadOnlyList<PhysicalRange> Ranges, IReadOnlyList<ElfNote> Notes,
    IReadOnlyList<ElfProgramHeader> LoadsInFileOrder, long HeadBytes)
{
    public long MemoryBytes => LoadsInFileOrder.Sum(l => (long)l.FileSize);
}

/// <summary>
/// Reads QEMU's ELF dump (paging=false) from a pipe in one pass: ELF header, program headers and notes come first,
/// then the PT_LOAD segments in file order. Everything read from the stream is bounded before it is allocated; a
/// layout that would need seeking back (a note after memory, overlapping segments) is refused.
/// </summary>
internal static class ElfDumpStream
{
    private const int MaxHeadBytes = 64 << 20;
    private const int DefaultPageSize = 4096;

    public static ElfStreamHead ReadHead(DumpPipe pipe, string name, Action<TimeSpan> idle, CancellationToken cancellationToken)
    {
        var ehdr = new byte[ElfLayout.EhdrSize];
        ReadExactly(pipe, ehdr, name, "ELF header", idle, cancellationToken);
        if (!ElfLayout.HasSignature(ehdr) || ehdr[4] != 2 || ehdr[5] != 1 || BinaryPrimitives.ReadUInt16LittleEndian(ehdr.AsSpan(16)) != 4)
        {
            throw Malformed(name, 0, "it does not start with a little-endian ELF64 core header");
        }
        var phoff = BinaryPrimitives.ReadUInt64LittleEndian(ehdr.AsSpan(32));
        var shoff = BinaryPrimitives.ReadUInt64LittleEndian(ehdr.AsSpan(40));
        var phentsize = BinaryPrimitives.ReadUInt16LittleEndian(ehdr.AsSpan(54));
        var phnum = (uint)BinaryPrimitives.ReadUInt16LittleEndian(ehdr.AsSpan(56));
        if (phentsize != ElfProgramHeader.Size)
        {
            throw Malformed(name, 54, $"e_phentsize {phentsize} is not {ElfProgramHeader.Size}");
        }

        // Header, section header 0 (PN_XNUM) and program headers all lie in the first MaxHeadBytes, read as one prefix.
        var prefix = new List<byte>(ehdr);
        byte[] Prefix(ulong end, string what)
        {
            if (end > MaxHeadBytes)
            {
                throw Malformed(name, 32, $"the {what} end at offset {end}, beyond the {MaxHeadBytes >> 20} MiB VmDebug reads before guest memory");
            }
            if ((int)end > prefix.Count)
            {
                var more = new byte[(int)end - prefix.Count];
                ReadExactly(pipe, more, name, what, idle, cancellationToken);
                prefix.AddRange(more);
            }
            return [.. prefix];
        }
        if (phnum == ElfLayout.PnXnum)
        {
            var head = Prefix(shoff + ElfLayout.ShdrSize, "section header 0");
            phnum = BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan((int)shoff + 44));
        }
        if (phnum > ElfLayout.MaxProgramHeaders)
        {
            throw Malformed(name, 56, $"{phnum} program headers are more than the {ElfLayout.MaxProgramHeaders} VmDebug reads");
        }
        var table = Prefix(phoff + phnum * (ulong)ElfProgramHeader.Size, "program headers").AsSpan((int)phoff);
        var notes = new List<ElfNote>();
        var segments = new List<ElfProgramHeader>();
        for (var i = 0; i < phnum; i++)
        {
            var p = table[(i * ElfProgramHeader.Size)..];
            var header = new ElfProgramHeader(BinaryPrimitives.ReadUInt32LittleEndian(p), BinaryPrimitives.ReadUInt32LittleEndian(p[4..]),
                BinaryPrimitives.ReadUInt64LittleEndian(p[8..]), BinaryPrimitives.ReadUInt64LittleEndian(p[16..]),
                BinaryPrimitives.ReadUInt64LittleEndian(p[24..]), BinaryPrimitives.ReadUInt64LittleEndian(p[32..]),
                BinaryPrimitives.ReadUInt64LittleEndian(p[40..]), BinaryPrimitives.ReadUInt64LittleEndian(p[48..]));
            if (header.FileSize > 0 && header.Type is ElfProgramHeader.PtNote or ElfProgramHeader.PtLoad)
            {
                segments.Add(header);
            }
        }
        segments.Sort((a, b) => a.Offset.CompareTo(b.Offset));

        var position = (ulong)prefix.Count;
        long noteBytes = 0;
        var loads = new List<ElfProgramHeader>();
        foreach (var segment in segments)
        {
            if (segment.Offset < position)
            {
                throw Malformed(name, (long)Math.Min(segment.Offset, long.MaxValue),
                    $"a segment at offset {segment.Offset} overlaps what came before it in the stream");
            }
            if (segment.Type == ElfProgramHeader.PtLoad)
            {
                loads.Add(segment);
                // Memory follows; everything after it must be memory too.
                position = segment.Offset + segment.FileSize;
                continue;
            }
            if (loads.Count > 0)
            {
                throw Malformed(name, (long)segment.Offset, "a PT_NOTE comes after guest memory, which a stream cannot go back for");
            }
            noteBytes += (long)Math.Min(segment.FileSize, ElfNotes.MaxNoteBytes + 1UL);
            if (noteBytes > ElfNotes.MaxNoteBytes)
            {
                throw Malformed(name, (long)segment.Offset, $"its notes are larger than {ElfNotes.MaxNoteBytes >> 20} MiB");
            }
            Skip(pipe, (long)(segment.Offset - position), name, idle, cancellationToken);
            var data = new byte[(int)segment.FileSize];
            ReadExactly(pipe, data, name, "PT_NOTE segment", idle, cancellationToken);
            notes.AddRange(ElfNotes.Parse(data, name, (long)segment.Offset));
            position = segment.Offset + segment.FileSize;
        }

        var info = VmcoreInfo.FromNotes(notes);
        var pageSize = info?.PageSize is int size && size >= 512 && size <= 1 << 20 && int.IsPow2(size) ? size : DefaultPageSize;
        foreach (var load in loads)
        {
            if (load.PhysicalAddress % (ulong)pageSize != 0 || load.FileSize > load.MemorySize)
            {
                throw Malformed(name, (long)load.Offset, $"PT_LOAD at physical 0x{load.PhysicalAddress:x} is not page aligned or stores more than its size");
            }
            PhysicalBounds.CheckRange(name, (long)load.Offset, load.PhysicalAddress, load.FileSize, info, "PT_LOAD");
        }
        var sorted = loads.Select(l => new PhysicalRange(l.PhysicalAddress, l.FileSize)).OrderBy(r => r.Start).ToArray();
        for (var i = 1; i < sorted.Length; i++)
        {
            if (sorted[i].Start < sorted[i - 1].End)
            {
                throw Malformed(name, 0, $"PT_LOAD at physical 0x{sorted[i].Start:x} overlaps another");
            }
        }
        return new ElfStreamHead(pageSize, ElfVmcoreReader.MergeRanges(sorted), notes, loads, pipe.Position);
    }

    /// <summary>
    /// Reads the memory segments on a thread of their own and hands batches to <paramref name="process"/> in parallel,
    /// then to <paramref name="consume"/> in stream order. Returns once every segment is read, processed and
    /// consumed; the bytes after the last segment are drained so QEMU can finish. A <paramref name="filter"/> says
    /// which pages are not wanted: they are dropped in the kernel, and their part of the batch is left undefined.
    /// </summary>
    public static async Task ReadPagesAsync<T>(DumpPipe pipe, ElfStreamHead head, string name, Func<StreamedBatch, T> process,
        Func<T, ValueTask> consume, Action<TimeSpan> idle, CancellationToken cancellationToken, IStreamFilter? filter = null)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var inFlight = Channel.CreateBounded<Task<T>>(new BoundedChannelOptions(2 * Environment.ProcessorCount)
        {
            SingleReader = true,
            SingleWriter = true,
        });
        var reader = new Thread(() =>
        {
            try
            {
                ReadSegments(pipe, head, name, batch => inFlight.Writer.WriteAsync(Task.Run(() => process(batch), CancellationToken.None), stop.Token)
                    .AsTask().GetAwaiter().GetResult(), filter, idle, stop.Token);
                inFlight.Writer.Complete();
            }
            catch (Exception e)
            {
                inFlight.Writer.Complete(e);
            }
        })
        {
            IsBackground = true,
            Name = "VmDebug dump stream",
        };
        reader.Start();
        try
        {
            await foreach (var task in inFlight.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                await consume(await task.ConfigureAwait(false)).ConfigureAwait(false);
            }
        }
        finally
        {
            stop.Cancel();
            reader.Join();
            while (inFlight.Reader.TryRead(out var pending))
            {
                try
                {
                    await pending.ConfigureAwait(false);
                }
                catch (Exception) when (stop.IsCancellationRequested)
                {
                    // Secondary to what stopped the stream.
                }
            }
        }
    }

    private static void ReadSegments(DumpPipe pipe, ElfStreamHead head, string name, Action<StreamedBatch> hand, IStreamFilter? filter,
        Action<TimeSpan> idle, CancellationToken cancellationToken)
    {
        var pageSize = head.PageSize;
        foreach (var load in head.LoadsInFileOrder)
        {
            Skip(pipe, (long)load.Offset - pipe.Position, name, idle, cancellationToken);
            var firstPfn = load.PhysicalAddress / (ulong)pageSize;
            var pages = (long)((load.FileSize + (ulong)pageSize - 1) / (ulong)pageSize);
            var left = (long)load.FileSize;
            for (long done = 0; done < pages; done += PageBatches.PagesPerBatch)
            {
                var count = (int)Math.Min(PageBatches.PagesPerBatch, pages - done);
                var buffer = ArrayPool<byte>.Shared.Rent(count * pageSize);
                var bytes = (int)Math.Min(left, (long)count * pageSize);
                try
                {
                    var batchPfn = firstPfn + (ulong)done;
                    if (filter is null)
                    {
                        ReadExactly(pipe, buffer.AsSpan(0, bytes), name, "guest memory", idle, cancellationToken);
                    }
                    else
                    {
                        // On this thread, never a pool one: the QMP client and the pool's own work need those.
                        filter.WaitUntilDecided(batchPfn, count, cancellationToken);
                        ReadFiltered(pipe, buffer.AsSpan(0, bytes), batchPfn, pageSize, filter, name, idle, cancellationToken);
                    }
                    // A last partial page reads as zeros past the segment's end.
                    buffer.AsSpan(bytes, count * pageSize - bytes).Clear();
                }
                catch
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    throw;
                }
                left -= bytes;
                hand(new StreamedBatch(firstPfn + (ulong)done, count, buffer));
            }
        }
        // QEMU closes the pipe after its last write; whatever it writes after memory is not part of the dump.
        Skip(pipe, long.MaxValue, name, idle, cancellationToken, toEnd: true);
    }

    /// <summary>Reads the wanted pages of a batch into place and drops runs of unwanted ones in the kernel.</summary>
    private static void ReadFiltered(DumpPipe pipe, Span<byte> buffer, ulong firstPfn, int pageSize, IStreamFilter filter, string name,
        Action<TimeSpan> idle, CancellationToken cancellationToken)
    {
        var at = 0;
        while (at < buffer.Length)
        {
            var drop = filter.Drops(firstPfn + (ulong)(at / pageSize));
            var end = at + pageSize;
            while (end < buffer.Length && filter.Drops(firstPfn + (ulong)(end / pageSize)) == drop)
            {
                end += pageSize;
            }
            end = Math.Min(end, buffer.Length);
            if (!drop)
            {
                ReadExactly(pipe, buffer[at..end], name, "guest memory", idle, cancellationToken);
            }
            else if (pipe.Discard(end - at, idle, cancellationToken) < end - at)
            {
                throw new DumpStreamEndedException(name, "guest memory", pipe.Position);
            }
            at = end;
        }
    }

    private static void ReadExactly(DumpPipe pipe, Span<byte> buffer, string name, string what, Action<TimeSpan> idle, CancellationToken cancellationToken)
    {
        var read = pipe.ReadFull(buffer, idle, cancellationToken);
        if (read < buffer.Length)
        {
            throw new DumpStreamEndedException(name, what, pipe.Position);
        }
    }

    private static void Skip(DumpPipe pipe, long bytes, string name, Action<TimeSpan> idle, CancellationToken cancellationToken, bool toEnd = false)
    {
        if (bytes <= 0)
        {
            return;
        }
        if (pipe.Skip(bytes, idle, cancellationToken) < bytes && !toEnd)
        {
            throw new DumpStreamEndedException(name, "the gap before the next segment", pipe.Position);
        }
    }

    private static VmDebugException Malformed(string name, long offset, string reason) =>
        new("DumpStreamMalformed", ErrorKind.InvalidData, $"QEMU's dump stream from {name} cannot be read in one pass: {reason} (at offset {offset}).", name);
}
