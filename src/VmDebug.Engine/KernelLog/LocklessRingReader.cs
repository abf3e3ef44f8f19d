using System.Buffers.Binary;
using System.Text;
using VmDebug.Engine.GuestKernel;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Engine.KernelLog;

/// <summary>
/// Reads the lockless printk ring of Linux 5.10+ (kernel/printk/printk_ringbuffer.[ch]) through the layout keys
/// VMCOREINFO exports (log_buf_vmcoreinfo_setup). Descriptors from tail_id to head_id inclusive; only committed or
/// finalized descriptors whose id matches; each data block starts with its 8-byte descriptor id; a block that wraps
/// is stored from the ring's start; text is cut to the block (makedumpfile printk.c and kexec-tools elf_info.c agree).
/// Every count is bounded by the ring's own size, so a corrupted ring yields a partial log and a warning.
/// </summary>
internal static class LocklessRingReader
{
    private const int MaxCountBits = 22; // 4 Mi descriptors: far above any kernel's (log_buf_len is at most 2^25 / 32)
    private const int MaxSizeBits = 25; // CONFIG_LOG_BUF_SHIFT's maximum
    private const int MaxDescriptorBatch = 1024;
    // The unit of the ring's reads: whole guest pages go from a dump straight into the readers' buffers.
    private const int PageBytes = 4096;
    private const int StateShift = 62;
    private const ulong IdMask = (1UL << StateShift) - 1;
    private const ulong Committed = 1, Finalized = 2;

    public static bool Applies(VmcoreInfo info) => info.Symbol("prb") is not null;

    public static List<KernelLogEntry> Read(KernelMemoryView view, List<string> warnings)
    {
        var info = view.VmcoreInfo;
        var source = view.Memory.Name;
        var layout = Layout.From(info, source);
        var rb = view.ReadUInt64(info.Symbol("prb")!.Value, "the printk ring pointer (prb)");
        var header = view.ReadBytes(rb, (long)layout.RingSize, "the printk ring header");

        var countBits = BinaryPrimitives.ReadUInt32LittleEndian(Field(header, layout.DescRing + layout.CountBits, 4, source));
        var sizeBits = BinaryPrimitives.ReadUInt32LittleEndian(Field(header, layout.TextRing + layout.SizeBits, 4, source));
        if (countBits > MaxCountBits || sizeBits > MaxSizeBits || sizeBits < 4)
        {
            throw new KernelLogException(KernelLogException.RingCorrupt, ErrorKind.InvalidData, source,
                $"the printk ring at 0x{rb:x} claims 2^{countBits} descriptors and 2^{sizeBits} text bytes, beyond any kernel's ring.");
        }
        var count = 1UL << (int)countBits;
        var size = 1UL << (int)sizeBits;
        var descs = U64(header, layout.DescRing + layout.Descs, source);
        var infos = U64(header, layout.DescRing + layout.Infos, source);
        var data = U64(header, layout.TextRing + layout.Data, source);
        var head = U64(header, layout.DescRing + layout.HeadId + layout.Counter, source) & IdMask;
        var tail = U64(header, layout.DescRing + layout.TailId + layout.Counter, source) & IdMask;
        var text = new TextRing(view, data, size);

        var span = (head - tail) & IdMask;
        if (span >= count)
        {
            warnings.Add($"The printk ring's tail id {tail} is {span} descriptors behind its head {head}, more than the ring's {count}: only the last {count} are read.");
            tail = (head - count + 1) & IdMask;
            span = count - 1;
        }

        var entries = new List<KernelLogEntry>((int)Math.Min(span + 1, 65536));
        var batchSlots = Math.Clamp(view.Memory.ReadBatchBytes / (int)(layout.DescSize + layout.InfoSize), 16, MaxDescriptorBatch);
        var batch = new DescriptorWindow(view, layout, descs, infos, count, (int)Math.Min(span + 1, (ulong)batchSlots));
        var unreadable = 0;
        var textMissing = 0;
        for (ulong i = 0; i <= span; i++)
        {
            var id = (tail + i) & IdMask;
            if (!batch.TryLoad(id % count, span - i + 1, out var desc, out var printkInfo))
            {
                unreadable++;
                continue;
            }
            var stateVar = BinaryPrimitives.ReadUInt64LittleEndian(desc[(int)(layout.StateVar + layout.Counter)..]);
            var state = stateVar >> StateShift;
            if ((stateVar & IdMask) != id || (state != Committed && state != Finalized))
            {
                continue;
            }
            var begin = BinaryPrimitives.ReadUInt64LittleEndian(desc[(int)(layout.TextBlk + layout.Begin)..]) % size;
            var next = BinaryPrimitives.ReadUInt64LittleEndian(desc[(int)(layout.TextBlk + layout.Next)..]) % size;
            if (begin == next)
            {
                continue; // data-less record (FAILED_LPOS / NO_LPOS)
            }
            if (begin > next)
            {
                begin = 0; // the block wrapped: its data was written at the ring's start
            }
            begin += 8; // the owning descriptor's id
            var textLength = (ulong)BinaryPrimitives.ReadUInt16LittleEndian(printkInfo[(int)layout.TextLen..]);
            var truncated = false;
            if (begin > next)
            {
                continue; // a block too short for its id: corrupt
            }
            if (next - begin < textLength)
            {
                textLength = next - begin;
                truncated = true;
            }
            if (!text.TrySlice(begin, textLength, out var recordText))
            {
                textMissing++;
                continue;
            }
            var levelByte = printkInfo[(int)layout.TextLen + 3];
            entries.Add(new KernelLogEntry
            {
                Sequence = BinaryPrimitives.ReadUInt64LittleEndian(printkInfo[(int)layout.Seq..]),
                TimestampNanoseconds = BinaryPrimitives.ReadUInt64LittleEndian(printkInfo[(int)layout.TsNsec..]),
                Facility = layout.HasLevel ? printkInfo[(int)layout.TextLen + 2] : 0,
                Flags = layout.HasLevel ? levelByte & 0x1f : 0,
                Level = layout.HasLevel ? levelByte >> 5 : 6,
                CallerId = layout.CallerId is { } c ? BinaryPrimitives.ReadUInt32LittleEndian(printkInfo[(int)c..]) : null,
                Text = recordText,
                Subsystem = layout.Subsystem is { } s ? CString(printkInfo.Slice((int)s, layout.SubsystemLength)) : "",
                Device = layout.Device is { } d ? CString(printkInfo.Slice((int)d, layout.DeviceLength)) : "",
                Truncated = truncated,
            });
        }
        if (unreadable > 0)
        {
            warnings.Add($"{unreadable} printk descriptors could not be read (their pages are not in the source); their records are missing.");
        }
        if (textMissing > 0)
        {
            if (entries.Count == 0)
            {
                throw view.Unmapped(data, (int)size, "the printk text ring");
            }
            warnings.Add($"The text of {textMissing} printk records could not be read (their pages of the text ring are not in the source); those records are missing.");
        }
        if (!layout.HasLevel)
        {
            warnings.Add("printk_info's layout differs from the one known (caller_id does not follow text_len): levels and facilities are not read.");
        }
        return entries;
    }

    private static string CString(ReadOnlySpan<byte> bytes)
    {
        var nul = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul >= 0 ? bytes[..nul] : bytes);
    }

    private static ReadOnlySpan<byte> Field(byte[] bytes, ulong offset, int length, string source) =>
        offset + (ulong)length <= (ulong)bytes.Length
            ? bytes.AsSpan((int)offset, length)
            : throw new KernelLogException(KernelLogException.RingCorrupt, ErrorKind.InvalidData, source,
                $"VMCOREINFO places a printk ring field at offset {offset}, past the ring's {bytes.Length}-byte header.");

    private static ulong U64(byte[] bytes, ulong offset, string source) => BinaryPrimitives.ReadUInt64LittleEndian(Field(bytes, offset, 8, source));

    /// <summary>
    /// Reads descriptors and infos a batch of slots at a time, only as many as the ids still to read, into buffers
    /// reused from batch to batch: memory stays bounded whatever the count, and a short log reads a short window. Each
    /// batch is read as the whole pages that hold it, which go straight from the dump into the buffers; cut at slot
    /// boundaries, the two part pages at its ends went through the page cache, a fresh page each.
    /// </summary>
    private sealed class DescriptorWindow(KernelMemoryView view, Layout layout, ulong descs, ulong infos, ulong count, int batchSlots)
    {
        private readonly Window _descs = new(view, descs, layout.DescSize, batchSlots);
        private readonly Window _infos = new(view, infos, layout.InfoSize, batchSlots);
        private readonly bool[] _readable = new bool[batchSlots];
        private ulong _first = ulong.MaxValue;
        private int _slots;

        public bool TryLoad(ulong slot, ulong idsLeft, out ReadOnlySpan<byte> desc, out ReadOnlySpan<byte> info)
        {
            if (_first == ulong.MaxValue || slot < _first || slot >= _first + (ulong)_slots)
            {
                Fill(slot, (int)Math.Min((ulong)batchSlots, Math.Min(count - slot, idsLeft)));
            }
            var i = (int)(slot - _first);
            desc = _descs.Slot(i);
            info = _infos.Slot(i);
            return _readable[i];
        }

        private void Fill(ulong slot, int slots)
        {
            _first = slot;
            _slots = slots;
            // Both windows are placed for this batch, even when the first read fails, before slots are read one by one.
            var descsRead = _descs.TryFill(slot, slots);
            var whole = _infos.TryFill(slot, slots) && descsRead;
            for (var i = 0; i < slots; i++)
            {
                // A batch with an unreadable page is read slot by slot, so one bad page costs only its own records.
                _readable[i] = whole || (_descs.TryFillOne(slot, i) && _infos.TryFillOne(slot, i));
            }
        }

        /// <summary>One array of fixed-size slots (descriptors or infos), a batch of them at a time.</summary>
        private sealed class Window(KernelMemoryView view, ulong array, ulong slotSize, int batchSlots)
        {
            // Room for a batch and the part pages at both its ends; uninitialised, since every byte used is read first.
            private readonly byte[] _bytes = GC.AllocateUninitializedArray<byte>(batchSlots * (int)slotSize + 2 * PageBytes);
            private int _lead; // where the batch's first slot starts in _bytes

            public ReadOnlySpan<byte> Slot(int i) => _bytes.AsSpan(_lead + i * (int)slotSize, (int)slotSize);

            public bool TryFill(ulong slot, int slots)
            {
                var start = array + slot * slotSize;
                _lead = (int)(start % PageBytes);
                var pages = ((ulong)_lead + (ulong)slots * slotSize + PageBytes - 1) / PageBytes * PageBytes; // at most _bytes.Length
                return view.TryRead(start - (ulong)_lead, _bytes.AsSpan(0, (int)pages));
            }

            public bool TryFillOne(ulong slot, int i) =>
                view.TryRead(array + (slot + (ulong)i) * slotSize, _bytes.AsSpan(_lead + i * (int)slotSize, (int)slotSize));
        }
    }

    /// <summary>
    /// The text data ring, read a few pages at a time as records reach it: a log seldom fills its ring, and a page
    /// never reached costs neither a read nor (the buffer is left uninitialised) memory. Chunks follow the guest's
    /// pages, so each read is of whole pages, which go straight from the dump into the buffer. A page the source lacks
    /// costs only the records whose text is on it.
    /// </summary>
    private sealed class TextRing
    {
        private const byte NotRead = 0, Loaded = 1, Missing = 2;
        private readonly KernelMemoryView _view;
        private readonly int _readAhead; // chunks read at once: records are reached in ring order
        private readonly ulong _address, _size, _lead;
        private readonly byte[] _bytes;
        private readonly byte[] _chunks; // per chunk: NotRead, Loaded or Missing

        public TextRing(KernelMemoryView view, ulong address, ulong size)
        {
            _view = view;
            _address = address;
            _size = size;
            _lead = address % PageBytes; // chunk k holds ring bytes [k * PageBytes - lead, (k + 1) * PageBytes - lead)
            _readAhead = Math.Max(1, view.Memory.ReadBatchBytes / PageBytes);
            _bytes = GC.AllocateUninitializedArray<byte>((int)size);
            _chunks = new byte[(_lead + size + PageBytes - 1) / PageBytes];
        }

        /// <summary>Bytes [begin, begin + length) of the ring, which the caller keeps inside it; false when a page
        /// of them is not in the source.</summary>
        public bool TrySlice(ulong begin, ulong length, out ReadOnlyMemory<byte> bytes)
        {
            var readable = true;
            if (length > 0)
            {
                var last = (int)((_lead + begin + length - 1) / PageBytes);
                for (var chunk = (int)((_lead + begin) / PageBytes); chunk <= last; chunk++)
                {
                    if (_chunks[chunk] == NotRead)
                    {
                        Load(chunk, last);
                    }
                    readable &= _chunks[chunk] == Loaded;
                }
            }
            bytes = readable ? _bytes.AsMemory((int)begin, (int)length) : default;
            return readable;
        }

        /// <summary>Reads the chunks not yet read from <paramref name="first"/> on, through <paramref name="needed"/>
        /// and up to the source's read batch in all; a batch that fails is read chunk by chunk.</summary>
        private void Load(int first, int needed)
        {
            var last = first;
            while (last + 1 < _chunks.Length && _chunks[last + 1] == NotRead && (last < needed || last + 1 - first < _readAhead))
            {
                last++;
            }
            if (TryRead(first, last))
            {
                _chunks.AsSpan(first, last - first + 1).Fill(Loaded);
                return;
            }
            for (var chunk = first; chunk <= last; chunk++)
            {
                _chunks[chunk] = first < last && TryRead(chunk, chunk) ? Loaded : Missing;
            }
        }

        private bool TryRead(int first, int last)
        {
            var start = Math.Max((ulong)first * PageBytes, _lead) - _lead;
            var end = Math.Min((ulong)(last + 1) * PageBytes - _lead, _size);
            return _view.TryRead(_address + start, _bytes.AsSpan((int)start, (int)(end - start)));
        }
    }

    /// <summary>The ring's layout from VMCOREINFO, checked so that every field lies inside its structure.</summary>
    private sealed record Layout
    {
        public ulong RingSize, DescRing, TextRing, CountBits, Descs, Infos, HeadId, TailId, Counter;
        public ulong DescSize, StateVar, TextBlk, Begin, Next;
        public ulong InfoSize, Seq, TsNsec, TextLen;
        public ulong? CallerId, Subsystem, Device;
        public int SubsystemLength, DeviceLength;
        public ulong SizeBits, Data;
        public bool HasLevel;

        public static Layout From(VmcoreInfo info, string source)
        {
            ulong Need(ulong? value, string key) => value ?? throw new KernelLogException(KernelLogException.RingCorrupt, ErrorKind.InvalidData, source,
                $"VMCOREINFO has SYMBOL(prb) but not {key}, so the printk ring's layout is unknown.");
            var layout = new Layout
            {
                RingSize = Need(info.Size("printk_ringbuffer"), "SIZE(printk_ringbuffer)"),
                DescRing = Need(info.Offset("printk_ringbuffer", "desc_ring"), "OFFSET(printk_ringbuffer.desc_ring)"),
                TextRing = Need(info.Offset("printk_ringbuffer", "text_data_ring"), "OFFSET(printk_ringbuffer.text_data_ring)"),
                CountBits = Need(info.Offset("prb_desc_ring", "count_bits"), "OFFSET(prb_desc_ring.count_bits)"),
                Descs = Need(info.Offset("prb_desc_ring", "descs"), "OFFSET(prb_desc_ring.descs)"),
                Infos = Need(info.Offset("prb_desc_ring", "infos"), "OFFSET(prb_desc_ring.infos)"),
                HeadId = Need(info.Offset("prb_desc_ring", "head_id"), "OFFSET(prb_desc_ring.head_id)"),
                TailId = Need(info.Offset("prb_desc_ring", "tail_id"), "OFFSET(prb_desc_ring.tail_id)"),
                Counter = info.Offset("atomic_long_t", "counter") ?? 0,
                DescSize = Need(info.Size("prb_desc"), "SIZE(prb_desc)"),
                StateVar = Need(info.Offset("prb_desc", "state_var"), "OFFSET(prb_desc.state_var)"),
                TextBlk = Need(info.Offset("prb_desc", "text_blk_lpos"), "OFFSET(prb_desc.text_blk_lpos)"),
                Begin = Need(info.Offset("prb_data_blk_lpos", "begin"), "OFFSET(prb_data_blk_lpos.begin)"),
                Next = Need(info.Offset("prb_data_blk_lpos", "next"), "OFFSET(prb_data_blk_lpos.next)"),
                InfoSize = Need(info.Size("printk_info"), "SIZE(printk_info)"),
                Seq = Need(info.Offset("printk_info", "seq"), "OFFSET(printk_info.seq)"),
                TsNsec = Need(info.Offset("printk_info", "ts_nsec"), "OFFSET(printk_info.ts_nsec)"),
                TextLen = Need(info.Offset("printk_info", "text_len"), "OFFSET(printk_info.text_len)"),
                CallerId = info.Offset("printk_info", "caller_id"),
                SizeBits = Need(info.Offset("prb_data_ring", "size_bits"), "OFFSET(prb_data_ring.size_bits)"),
                Data = Need(info.Offset("prb_data_ring", "data"), "OFFSET(prb_data_ring.data)"),
            };
            if (info.Offset("printk_info", "dev_info") is { } devInfo)
            {
                layout.SubsystemLength = (int)Math.Min(info.Length("printk_info_subsystem") ?? 0, 256);
                layout.DeviceLength = (int)Math.Min(info.Length("printk_info_device") ?? 0, 256);
                layout.Subsystem = info.Offset("dev_printk_info", "subsystem") is { } s && layout.SubsystemLength > 0 ? devInfo + s : null;
                layout.Device = info.Offset("dev_printk_info", "device") is { } d && layout.DeviceLength > 0 ? devInfo + d : null;
            }
            // facility and flags:5/level:3 are bitfields VMCOREINFO does not export; they sit in the two bytes after
            // the u16 text_len when caller_id follows at +4 (printk_ringbuffer.h struct printk_info, GCC LE order).
            layout.HasLevel = layout.CallerId == layout.TextLen + 4;
            const ulong maxStruct = 4096;
            bool Inside(ulong? offset, ulong bytes, ulong size) => offset is null || (offset.Value + bytes <= size);
            if (layout.RingSize > maxStruct || layout.DescSize > maxStruct || layout.InfoSize > maxStruct
                || !Inside(layout.StateVar + layout.Counter, 8, layout.DescSize) || !Inside(layout.TextBlk + layout.Begin, 8, layout.DescSize)
                || !Inside(layout.TextBlk + layout.Next, 8, layout.DescSize) || !Inside(layout.Seq, 8, layout.InfoSize)
                || !Inside(layout.TsNsec, 8, layout.InfoSize) || !Inside(layout.TextLen, 4, layout.InfoSize)
                || !Inside(layout.CallerId, 4, layout.InfoSize) || !Inside(layout.Subsystem, (ulong)layout.SubsystemLength, layout.InfoSize)
                || !Inside(layout.Device, (ulong)layout.DeviceLength, layout.InfoSize))
            {
                throw new KernelLogException(KernelLogException.RingCorrupt, ErrorKind.InvalidData, source,
                    "VMCOREINFO's printk ring layout places fields outside their structures.");
            }
            return layout;
        }
    }
}
