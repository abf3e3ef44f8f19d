using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using VmDebug.Engine.GuestKernel;
using VmDebug.Engine.KernelLog;
using VmDebug.Engine.PageFilter;
using VmDebug.Engine.Pstore;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Fuzz;

/// <summary>
/// Kinds over the guest-kernel seed (seeds/kernel, made by <see cref="KernelSeedMaker"/>): each mutates the pages one
/// parser reads (page tables, the printk ring, kallsyms, struct pages, ramoops zones, VMCOREINFO in RAM) or the
/// dump's notes (VMCOREINFO text, QEMU CPU state), and runs the engine operations of Get-GuestKernelLog,
/// Get-GuestCrashInfo, Get-GuestPstore and Get-GuestMemoryUsage on the case.
/// </summary>
internal static class KernelFuzzKinds
{
    private const int PageSize = 4096;
    private static readonly byte[] PstoreSignature = "DBGC"u8.ToArray();

    public static IEnumerable<FuzzKind> Load(string seedDirectory)
    {
        var directory = Path.Combine(seedDirectory, "kernel");
        if (!Directory.Exists(directory))
        {
            yield break;
        }
        var seeds = Directory.GetFiles(directory, "*.elf.gz").Order(StringComparer.Ordinal).Select(Seed.Load).ToArray();
        if (seeds.Length == 0)
        {
            yield break;
        }
        byte[][] data = [.. seeds.Select(s => s.Data)];
        Seed Of(byte[] d) => seeds.First(s => s.Data.Length == d.Length);
        FuzzKind Pages(string name, string label, Action<byte[], Mutator, Seed, ulong> edit, Func<byte[], string, Task> run) =>
            new(name, data, (d, m) => Finish(d, m, () =>
            {
                var seed = Of(d);
                var pfns = seed.Labels.GetValueOrDefault(label, []);
                if (pfns.Length > 0)
                {
                    edit(d, m, seed, pfns[m.Random.Next(pfns.Length)]);
                }
            }), run);

        yield return Pages("kernel-page-table", KernelSeedMaker.PageTables, MutatePageTable, GuestKernelAsync);
        yield return Pages("printk-ring", KernelSeedMaker.Printk, MutateFields, GuestKernelAsync);
        yield return Pages("kallsyms", KernelSeedMaker.Kallsyms, MutateFields, CrashInfoAsync);
        yield return Pages("struct-page", KernelSeedMaker.StructPage, MutateFields, MemoryUsageAsync);
        yield return Pages("pstore-zone", KernelSeedMaker.Pstore, MutatePstore, PstoreAsync);
        yield return new FuzzKind("vmcoreinfo-note", data, (d, m) => Finish(d, m, () => MutateNoteText(d, m, Of(d).VmcoreInfoText)), GuestKernelAsync);
        yield return Pages("vmcoreinfo-in-ram", KernelSeedMaker.VmcoreInfoInRam, (d, m, seed, pfn) =>
        {
            // Without the note, the reader must find VMCOREINFO in RAM.
            d[seed.VmcoreInfoText.Start - 4] ^= (byte)(1 + m.Random.Next(255));
            MutateVmcoreInfoPage(d, m, seed, pfn);
        }, GuestKernelAsync);
        yield return new FuzzKind("qemu-cpu-note", data, (d, m) => Finish(d, m, () => MutateCpuNote(d, m, Of(d))), CrashInfoAsync);
    }

    /// <summary>Get-GuestKernelLog's and Get-GuestCrashInfo's engine operations, and the log written out both ways.</summary>
    private static async Task GuestKernelAsync(byte[] data, string file)
    {
        await File.WriteAllBytesAsync(file, data);
        var target = new GuestKernelTarget { Path = file };
        var log = await GuestKernelLogReader.ReadAsync(target, CancellationToken.None);
        _ = log.ToMakedumpfileText();
        _ = log.ToKmsgRecords(tail: 50);
        _ = await GuestCrashAnalyzer.ReadAsync(target, CancellationToken.None);
    }

    private static async Task CrashInfoAsync(byte[] data, string file)
    {
        await File.WriteAllBytesAsync(file, data);
        _ = await GuestCrashAnalyzer.ReadAsync(new GuestKernelTarget { Path = file }, CancellationToken.None);
    }

    private static async Task PstoreAsync(byte[] data, string file)
    {
        await File.WriteAllBytesAsync(file, data);
        _ = await PstoreReader.ReadAsync(new PstoreRequest { Target = new GuestKernelTarget { Path = file } }, CancellationToken.None);
    }

    private static async Task MemoryUsageAsync(byte[] data, string file)
    {
        await File.WriteAllBytesAsync(file, data);
        _ = GuestMemoryUsageReader.Measure(file, 31, null, CancellationToken.None);
    }

    private static byte[] Finish(byte[] data, Mutator m, Action edit)
    {
        edit();
        if (m.Random.Next(3) == 0)
        {
            edit();
        }
        return m.Random.Next(32) == 0 ? m.Truncate(data) : data;
    }

    /// <summary>One entry of a table the walk read: a boundary value, the present or huge-page bit flipped, or a pointer to another kept page (loops).</summary>
    private static void MutatePageTable(byte[] d, Mutator m, Seed seed, ulong pfn)
    {
        var page = seed.FileOffset(pfn);
        var entry = m.Random.Next(512);
        for (var tries = 0; tries < 16 && BinaryPrimitives.ReadUInt64LittleEndian(d.AsSpan((int)page + entry * 8)) == 0; tries++)
        {
            entry = m.Random.Next(512);
        }
        var at = (int)page + entry * 8;
        var value = BinaryPrimitives.ReadUInt64LittleEndian(d.AsSpan(at));
        var all = seed.AllPfns;
        value = m.Random.Next(5) switch
        {
            0 => value ^ 1,
            1 => value ^ 0x80,
            2 => (all[m.Random.Next(all.Length)] * PageSize) | (value & 0xfff),
            3 => value ^ (1UL << m.Random.Next(64)),
            _ => m.Interesting(d.Length),
        };
        BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(at), value);
    }

    /// <summary>A field of 1, 2, 4 or 8 bytes in the page, a non-zero one when there is one nearby, or a few bytes flipped.</summary>
    private static void MutateFields(byte[] d, Mutator m, Seed seed, ulong pfn)
    {
        var page = seed.FileOffset(pfn);
        if (m.Random.Next(4) == 0)
        {
            m.FlipBytes(d, page, page + PageSize, 1 + m.Random.Next(8));
            return;
        }
        var width = new[] { 1, 2, 4, 8, 8 }[m.Random.Next(5)];
        var at = page + m.Random.Next(PageSize / width) * width;
        for (var tries = 0; tries < 16 && !d.AsSpan((int)at, width).ContainsAnyExcept((byte)0); tries++)
        {
            at = page + m.Random.Next(PageSize / width) * width;
        }
        m.MutateOneOf(d, at, [(0, width)]);
    }

    /// <summary>A zone header (signature, start, size) where the region has one, else a word of the record data.</summary>
    private static void MutatePstore(byte[] d, Mutator m, Seed seed, ulong pfn)
    {
        if (seed.PstoreHeaders.Length > 0 && m.Random.Next(3) != 0)
        {
            m.MutateOneOf(d, seed.PstoreHeaders[m.Random.Next(seed.PstoreHeaders.Length)], [(0, 4), (4, 4), (8, 4), (12, 4), (16, 8)]);
            return;
        }
        MutateFields(d, m, seed, pfn);
    }

    /// <summary>The note's VMCOREINFO text edited as tokens, written back into the same bytes (cut or padded with line ends).</summary>
    private static void MutateNoteText(byte[] d, Mutator m, (int Start, int Length) text)
    {
        var mutated = m.MutateTextBytes(Encoding.UTF8.GetString(d, text.Start, text.Length));
        var span = d.AsSpan(text.Start, text.Length);
        span.Fill((byte)'\n');
        mutated.AsSpan(0, Math.Min(mutated.Length, span.Length)).CopyTo(span);
    }

    private static void MutateVmcoreInfoPage(byte[] d, Mutator m, Seed seed, ulong pfn)
    {
        var page = (int)seed.FileOffset(pfn);
        if (BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(page)) == 11 && m.Random.Next(3) == 0)
        {
            m.MutateOneOf(d, page, [(0, 4), (4, 4), (8, 4)]);
            return;
        }
        var textBytes = BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(page + 4));
        if (BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(page)) == 11 && textBytes <= PageSize - 24)
        {
            MutateNoteText(d, m, (page + 24, (int)textBytes));
            return;
        }
        MutateFields(d, m, seed, pfn);
    }

    /// <summary>An 8-byte field of a QEMU CPU note or an NT_PRSTATUS note (registers, CR3, sizes).</summary>
    private static void MutateCpuNote(byte[] d, Mutator m, Seed seed)
    {
        var notes = seed.CpuNotes;
        if (notes.Length == 0)
        {
            return;
        }
        var (start, length) = notes[m.Random.Next(notes.Length)];
        if (m.Random.Next(6) == 0)
        {
            // The note's own sizes.
            m.MutateOneOf(d, start - 24, [(0, 4), (4, 4)]);
            return;
        }
        m.MutateOneOf(d, start + m.Random.Next(Math.Max(1, length / 8)) * 8, [(0, 8), (0, 4)]);
    }

    /// <summary>A decompressed seed with where its pages, notes and ramoops zone headers are in the file.</summary>
    private sealed class Seed
    {
        private readonly Dictionary<ulong, long> _offsets = [];

        private Seed(byte[] data, Dictionary<string, ulong[]> labels)
        {
            Data = data;
            Labels = labels;
            var phoff = (int)BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(32));
            var phnum = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(56));
            var cpuNotes = new List<(int, int)>();
            for (var i = 0; i < phnum; i++)
            {
                var ph = data.AsSpan(phoff + i * 56);
                var type = BinaryPrimitives.ReadUInt32LittleEndian(ph);
                var offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(ph[8..]);
                var physical = BinaryPrimitives.ReadUInt64LittleEndian(ph[24..]);
                var size = (long)BinaryPrimitives.ReadUInt64LittleEndian(ph[32..]);
                if (type == ElfProgramHeader.PtLoad)
                {
                    for (long at = 0; at < size; at += PageSize)
                    {
                        _offsets[(physical + (ulong)at) / PageSize] = offset + at;
                    }
                }
                else if (type == ElfProgramHeader.PtNote)
                {
                    for (var at = offset; at + 12 <= offset + size;)
                    {
                        var namesz = (int)BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan((int)at));
                        var descsz = (int)BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan((int)at + 4));
                        var name = Encoding.ASCII.GetString(data, (int)at + 12, Math.Max(0, namesz - 1));
                        var desc = (int)at + 12 + ((namesz + 3) & ~3);
                        if (name == VmcoreInfo.NoteName)
                        {
                            VmcoreInfoText = (desc, descsz);
                        }
                        else if (name is "QEMU" or "CORE")
                        {
                            cpuNotes.Add((desc, descsz));
                        }
                        at = desc + ((descsz + 3) & ~3);
                    }
                }
            }
            CpuNotes = [.. cpuNotes];
            AllPfns = [.. _offsets.Keys.Order()];
            PstoreHeaders = [.. Labels.GetValueOrDefault(KernelSeedMaker.Pstore, []).SelectMany(SignaturesIn)];
        }

        public byte[] Data { get; }

        public Dictionary<string, ulong[]> Labels { get; }

        public ulong[] AllPfns { get; }

        public (int Start, int Length) VmcoreInfoText { get; }

        public (int Start, int Length)[] CpuNotes { get; }

        /// <summary>File offsets of the "DBGC" headers of the ramoops zones.</summary>
        public long[] PstoreHeaders { get; }

        public long FileOffset(ulong pfn) => _offsets[pfn];

        private List<long> SignaturesIn(ulong pfn)
        {
            var page = FileOffset(pfn);
            var span = Data.AsSpan((int)page, PageSize);
            var found = new List<long>();
            for (var at = 0; at + 24 <= PageSize; at += 4)
            {
                if (span[at..].StartsWith(PstoreSignature))
                {
                    found.Add(page + at);
                }
            }
            return found;
        }

        public static Seed Load(string path)
        {
            using var file = File.OpenRead(path);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            using var data = new MemoryStream();
            gzip.CopyTo(data);
            var labels = File.ReadAllLines(Path.ChangeExtension(Path.ChangeExtension(path, null), ".pages"))
                .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(w => w.Length > 1)
                .ToDictionary(w => w[0], w => w.Skip(1).Select(ulong.Parse).ToArray());
            return new Seed(data.ToArray(), labels);
        }
    }
}
