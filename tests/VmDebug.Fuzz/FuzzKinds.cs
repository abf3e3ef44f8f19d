using System.Buffers.Binary;
using System.Text;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Fuzz;

/// <summary>The input kinds and their structure-aware mutators, over the seeds in seeds/.</summary>
internal static class FuzzKinds
{
    private static readonly (int, int)[] ElfHeaderFields = [(4, 1), (5, 1), (16, 2), (18, 2), (32, 8), (40, 8), (52, 2), (54, 2), (56, 2), (58, 2), (60, 2), (62, 2)];
    private static readonly (int, int)[] ProgramHeaderFields = [(0, 4), (4, 4), (8, 8), (16, 8), (24, 8), (32, 8), (40, 8), (48, 8)];
    private static readonly (int, int)[] NoteFields = [(0, 4), (4, 4), (8, 4)];
    private static readonly (int, int)[] KdumpHeaderFields =
        [(8, 4), (KdumpLayout.Status, 4), (KdumpLayout.BlockSize, 4), (KdumpLayout.SubHeaderBlocks, 4), (KdumpLayout.BitmapBlocks, 4),
         (KdumpLayout.MaxMapnr32, 4), (KdumpLayout.TotalRamBlocks, 4), (KdumpLayout.NrCpus, 4)];
    private static readonly (int, int)[] KdumpSubHeaderFields =
        [(KdumpLayout.SubPhysBase, 8), (KdumpLayout.SubDumpLevel, 4), (KdumpLayout.SubStartPfn, 8), (KdumpLayout.SubEndPfn, 8),
         (KdumpLayout.SubOffsetVmcoreinfo, 8), (KdumpLayout.SubSizeVmcoreinfo, 8), (KdumpLayout.SubOffsetNote, 8), (KdumpLayout.SubSizeNote, 8),
         (KdumpLayout.SubStartPfn64, 8), (KdumpLayout.SubEndPfn64, 8), (KdumpLayout.SubMaxMapnr64, 8)];
    private static readonly (int, int)[] PageDescriptorFields = [(0, 8), (8, 4), (12, 4), (16, 8)];
    private static readonly (int, int)[] FlattenedRecordFields = [(0, 8), (8, 8)];

    public static IReadOnlyList<FuzzKind> Load(string seedDirectory)
    {
        byte[][] Seeds(string sub, Func<byte[], bool> filter) =>
            Directory.Exists(Path.Combine(seedDirectory, sub))
                ? Directory.GetFiles(Path.Combine(seedDirectory, sub)).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).Where(filter).ToArray()
                : [];
        var elf = Seeds("vmcore", d => d.AsSpan().StartsWith("\u007fELF"u8));
        var kdump = Seeds("vmcore", d => d.AsSpan().StartsWith("KDUMP   "u8));
        var flattened = Seeds("vmcore", d => d.AsSpan().StartsWith("makedumpfile\0"u8));
        var cores = Seeds("core", _ => true);
        var kinds = new List<FuzzKind>
        {
            new("elf-header", elf, (d, m) => Finish(d, m, () => m.MutateOneOf(d, 0, ElfHeaderFields)), FuzzTargets.VmcoreAsync),
            new("elf-program-header", elf, (d, m) => Finish(d, m, () => MutateProgramHeader(d, m)), FuzzTargets.VmcoreAsync),
            new("elf-note", elf, (d, m) => Finish(d, m, () => MutateNote(d, m)), FuzzTargets.VmcoreAsync),
            new("kdump-header", kdump, (d, m) => Finish(d, m, () => m.MutateOneOf(d, 0, KdumpHeaderFields)), FuzzTargets.VmcoreAsync),
            new("kdump-sub-header", kdump, (d, m) => Finish(d, m, () => m.MutateOneOf(d, BlockSize(d), KdumpSubHeaderFields)), FuzzTargets.VmcoreAsync),
            new("kdump-bitmap", kdump, (d, m) => Finish(d, m, () => MutateBitmap(d, m)), FuzzTargets.VmcoreAsync),
            new("kdump-page-descriptor", kdump, (d, m) => Finish(d, m, () => MutatePageDescriptor(d, m)), FuzzTargets.VmcoreAsync),
            new("flattened-record", flattened, (d, m) => Finish(d, m, () => MutateFlattenedRecord(d, m)), FuzzTargets.VmcoreAsync),
            new("process-core-note", cores, (d, m) => Finish(d, m, () =>
            {
                if (m.Random.Next(3) == 0) { MutateProgramHeader(d, m); } else { MutateNote(d, m); } }), FuzzTargets.ProcessCoreAsync),
            new("qemu-conf", Seeds("conf", _ => true), (d, m) => m.MutateTextBytes(Encoding.UTF8.GetString(d)), FuzzTargets.QemuConfAsync),
            new("domain-xml", Seeds("xml", _ => true), (d, m) => m.MutateTextBytes(Encoding.UTF8.GetString(d)), FuzzTargets.DomainXmlAsync),
            new("kmsg-framing", Seeds("kmsg", _ => true), MutateKmsg, FuzzTargets.KmsgAsync),
            new("qmp-reply", Seeds("qmp", _ => true), MutateQmp, FuzzTargets.QmpAsync),
        };
        kinds.Add(StructuredRingFuzzKind.Create());
        kinds.AddRange(KernelFuzzKinds.Load(seedDirectory));
        kinds.AddRange(FileFuzzKinds.Load(seedDirectory));
        return kinds.Where(k => k.Seeds.Count > 0).ToList();
    }

    /// <summary>The structured edit, sometimes a second one or a few stray bytes, rarely a truncation.</summary>
    private static byte[] Finish(byte[] data, Mutator m, Action edit)
    {
        edit();
        if (m.Random.Next(3) == 0)
        {
            edit();
        }
        if (m.Random.Next(8) == 0)
        {
            m.FlipBytes(data, 0, data.Length, 1 + m.Random.Next(4));
        }
        return m.Random.Next(16) == 0 ? m.Truncate(data) : data;
    }

    private static void MutateProgramHeader(byte[] d, Mutator m)
    {
        var (offset, count) = FuzzTargets.ProgramHeaders(d);
        if (count == 0 || offset < 0 || offset > d.Length)
        {
            m.MutateOneOf(d, 0, ElfHeaderFields);
            return;
        }
        m.MutateOneOf(d, (long)offset + m.Random.Next(count) * 56L, ProgramHeaderFields);
    }

    /// <summary>namesz, descsz or n_type of one note in the first PT_NOTE.</summary>
    private static void MutateNote(byte[] d, Mutator m)
    {
        var (offset, count) = FuzzTargets.ProgramHeaders(d);
        for (var i = 0; i < count; i++)
        {
            var ph = (long)offset + i * 56L;
            if (ph + 56 > d.Length || BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan((int)ph)) != ElfProgramHeader.PtNote)
            {
                continue;
            }
            var start = (long)BinaryPrimitives.ReadUInt64LittleEndian(d.AsSpan((int)ph + 8));
            var end = start + (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(d.AsSpan((int)ph + 32)), (ulong)d.Length);
            var notes = new List<long>();
            for (var at = start; at >= 0 && at + 12 <= Math.Min(end, d.Length) && notes.Count < 1024;)
            {
                notes.Add(at);
                var namesz = BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan((int)at));
                var descsz = BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan((int)at + 4));
                at += 12 + ((namesz + 3L) & ~3L) + ((descsz + 3L) & ~3L);
            }
            if (notes.Count > 0)
            {
                var note = notes[m.Random.Next(notes.Count)];
                if (m.Random.Next(4) == 0)
                {
                    m.FlipBytes(d, note + 12, Math.Min(end, note + 4096), 1 + m.Random.Next(8));
                }
                else
                {
                    m.MutateOneOf(d, note, NoteFields);
                }
                return;
            }
        }
        MutateProgramHeader(d, m);
    }

    private static int BlockSize(byte[] d) => d.Length >= 464 ? BinaryPrimitives.ReadInt32LittleEndian(d.AsSpan(KdumpLayout.BlockSize)) : 4096;

    private static (long Bitmaps, long Length) BitmapRegion(byte[] d)
    {
        var blockSize = (long)BlockSize(d);
        var sub = BinaryPrimitives.ReadInt32LittleEndian(d.AsSpan(KdumpLayout.SubHeaderBlocks));
        var bitmap = BinaryPrimitives.ReadInt32LittleEndian(d.AsSpan(KdumpLayout.BitmapBlocks));
        return ((1 + sub) * blockSize, bitmap * blockSize);
    }

    private static void MutateBitmap(byte[] d, Mutator m)
    {
        var (start, length) = BitmapRegion(d);
        if (m.Random.Next(2) == 0)
        {
            m.FlipBytes(d, start, start + length, 1 + m.Random.Next(16));
        }
        else
        {
            // A run of set or cleared bits: whole ranges appear or vanish.
            var from = start + m.Random.NextInt64(Math.Max(1, length));
            var count = m.Random.Next(1, 512);
            for (var i = from; i < Math.Min(d.Length, from + count) && i < start + length; i++)
            {
                d[i] = m.Random.Next(2) == 0 ? (byte)0xff : (byte)0;
            }
        }
    }

    private static void MutatePageDescriptor(byte[] d, Mutator m)
    {
        var (start, length) = BitmapRegion(d);
        var descriptors = start + length;
        var present = Math.Max(1, (d.Length - descriptors) / KdumpLayout.PageDescSize);
        m.MutateOneOf(d, descriptors + m.Random.NextInt64(Math.Min(present, 4096)) * KdumpLayout.PageDescSize, PageDescriptorFields);
    }

    /// <summary>A record's big-endian offset or size, or the stream header's type and version.</summary>
    private static void MutateFlattenedRecord(byte[] d, Mutator m)
    {
        if (m.Random.Next(8) == 0)
        {
            m.MutateOneOf(d, 0, [(16, 8), (24, 8)], bigEndian: true);
            return;
        }
        var records = new List<long>();
        for (long at = 4096; at + 16 <= d.Length && records.Count < 100_000;)
        {
            records.Add(at);
            var size = BinaryPrimitives.ReadInt64BigEndian(d.AsSpan((int)at + 8));
            if (BinaryPrimitives.ReadInt64BigEndian(d.AsSpan((int)at)) == -1 || size < 0 || size > d.Length)
            {
                break;
            }
            at += 16 + size;
        }
        if (records.Count > 0)
        {
            m.MutateOneOf(d, records[m.Random.Next(records.Count)], FlattenedRecordFields, bigEndian: true);
        }
    }

    /// <summary>Text edits of the records, or raw bytes spliced in (framing must survive any byte stream).</summary>
    private static byte[] MutateKmsg(byte[] seed, Mutator m)
    {
        var data = m.MutateTextBytes(Encoding.UTF8.GetString(seed));
        if (m.Random.Next(3) == 0)
        {
            m.FlipBytes(data, 0, data.Length, 1 + m.Random.Next(32));
        }
        if (m.Random.Next(8) == 0)
        {
            // One record longer than the framer's limit, without a line end.
            data = [.. data, .. Enumerable.Repeat((byte)'x', 9000 + m.Random.Next(9000))];
        }
        return data;
    }

    /// <summary>One reply line mutated as JSON tokens; sometimes an event or an extra line appears among them.</summary>
    private static byte[] MutateQmp(byte[] seed, Mutator m)
    {
        var lines = Encoding.UTF8.GetString(seed).Split('\n').ToList();
        var i = m.Random.Next(lines.Count);
        lines[i] = m.MutateText(lines[i]);
        if (m.Random.Next(6) == 0)
        {
            lines.Insert(1 + m.Random.Next(lines.Count - 1), """{"event": "DUMP_COMPLETED", "data": {"result": {"status": "failed", "completed": -1, "total": -5}, "error": "x"}, "timestamp": {"seconds": -1, "microseconds": 99999999}}""");
        }
        return Encoding.UTF8.GetBytes(string.Join('\n', lines));
    }
}
