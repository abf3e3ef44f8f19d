using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;
using VmDebug.Engine.Compression;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Fuzz;

/// <summary>
/// Makes small seeds from real dumps the test guest produced: a few pages of its memory with its real notes (VMCOREINFO,
/// PRSTATUS) in every container, QEMU's own ELF and flattened output clipped, a QEMU process core's headers and notes,
/// and its console log as /dev/kmsg records. Text seeds (qemu.conf, domain XML) come from the tests' real samples.
/// </summary>
internal static partial class SeedMaker
{
    private const int SeedPages = 6;

    public static async Task MakeAsync(string output, Options options)
    {
        var vmcore = Directory.CreateDirectory(Path.Combine(output, "vmcore")).FullName;
        if (options.Sources.TryGetValue("vmcore", out var dump))
        {
            using var reader = VmcoreFile.Open(dump);
            using var clipped = new ClippedSource(reader, SeedPages);
            await WriteAsync(Path.Combine(vmcore, "guest.elf"), s => ElfVmcoreWriter.WriteAsync(clipped, s));
            foreach (var codec in new[] { PageCompression.Zlib, PageCompression.Lzo, PageCompression.Snappy, PageCompression.Zstd, PageCompression.None })
            {
                var path = Path.Combine(vmcore, $"guest-{codec.ToString().ToLowerInvariant()}.kdump");
                await WriteAsync(path, s => KdumpWriter.WriteAsync(clipped, s, new KdumpWriteOptions { Compression = codec, MaxDegreeOfParallelism = 1 }));
                if (codec == PageCompression.Zlib)
                {
                    File.WriteAllBytes(Path.Combine(vmcore, "guest-zlib.flat"), Flatten(File.ReadAllBytes(path)));
                }
            }
        }
        if (options.Sources.TryGetValue("qemu-elf", out var qemuElf))
        {
            File.WriteAllBytes(Path.Combine(vmcore, "qemu-layout.elf"), ClipQemuElf(File.ReadAllBytes(qemuElf)));
        }
        if (options.Sources.TryGetValue("qemu-flat", out var qemuFlat))
        {
            File.WriteAllBytes(Path.Combine(vmcore, "qemu-kdump-zlib.flat"), ClipFlattened(qemuFlat, 320 * 1024));
        }
        if (options.Sources.TryGetValue("core", out var core))
        {
            Directory.CreateDirectory(Path.Combine(output, "core"));
            File.WriteAllBytes(Path.Combine(output, "core", "qemu.core"), HeadersAndNotes(core));
        }
        if (options.Sources.TryGetValue("kernel-dump", out var kernelDump))
        {
            await KernelSeedMaker.MakeAsync(kernelDump, Path.Combine(output, "kernel"));
        }
        if (options.Sources.TryGetValue("console", out var console))
        {
            Directory.CreateDirectory(Path.Combine(output, "kmsg"));
            File.WriteAllText(Path.Combine(output, "kmsg", "guest.kmsg"), KmsgFromConsole(File.ReadAllLines(console)));
        }
    }

    private static async Task WriteAsync(string path, Func<Stream, Task> write)
    {
        await using var stream = File.Create(path);
        await write(stream);
    }

    /// <summary>makedumpfile's flattened form of a seekable file: the 4096-byte header, one record per non-zero 4 KiB block, the end marker.</summary>
    private static byte[] Flatten(byte[] file)
    {
        var stream = new MemoryStream();
        var header = new byte[4096];
        "makedumpfile\0"u8.CopyTo(header);
        BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(16), 1);
        BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(24), 1);
        stream.Write(header);
        var record = new byte[16];
        for (var offset = 0; offset < file.Length; offset += 4096)
        {
            var block = file.AsSpan(offset, Math.Min(4096, file.Length - offset));
            if (!block.ContainsAnyExcept((byte)0))
            {
                continue;
            }
            BinaryPrimitives.WriteInt64BigEndian(record, offset);
            BinaryPrimitives.WriteInt64BigEndian(record.AsSpan(8), block.Length);
            stream.Write(record);
            stream.Write(block);
        }
        BinaryPrimitives.WriteInt64BigEndian(record, -1);
        BinaryPrimitives.WriteInt64BigEndian(record.AsSpan(8), -1);
        stream.Write(record);
        return stream.ToArray();
    }

    /// <summary>QEMU's layout (section header first, program headers at 192) kept, every PT_LOAD cut to a few pages.</summary>
    private static byte[] ClipQemuElf(byte[] raw)
    {
        var phoff = (int)BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(32));
        var phnum = BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(56));
        var loads = Enumerable.Range(0, phnum).Select(i => phoff + i * 56).Where(p => BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(p)) == 1).ToList();
        var dataStart = loads.Min(p => (long)BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(p + 8)));
        var clip = SeedPages * 4096L;
        var result = new byte[dataStart + loads.Count * clip];
        raw.AsSpan(0, (int)dataStart).CopyTo(result);
        for (var i = 0; i < loads.Count; i++)
        {
            var p = loads[i];
            var from = (long)BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(p + 8));
            var size = Math.Min(clip, (long)BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(p + 32)));
            raw.AsSpan((int)from, (int)size).CopyTo(result.AsSpan((int)(dataStart + i * clip)));
            BinaryPrimitives.WriteUInt64LittleEndian(result.AsSpan(p + 8), (ulong)(dataStart + i * clip));
            BinaryPrimitives.WriteUInt64LittleEndian(result.AsSpan(p + 32), (ulong)size);
            BinaryPrimitives.WriteUInt64LittleEndian(result.AsSpan(p + 40), (ulong)size);
        }
        return result;
    }

    /// <summary>The first records of QEMU's flattened stream up to <paramref name="budget"/> bytes, then the end marker.</summary>
    private static byte[] ClipFlattened(string path, int budget)
    {
        using var file = File.OpenRead(path);
        var kept = new MemoryStream();
        var header = new byte[4096];
        file.ReadExactly(header);
        kept.Write(header);
        var record = new byte[16];
        while (kept.Length < budget)
        {
            file.ReadExactly(record);
            var size = BinaryPrimitives.ReadInt64BigEndian(record.AsSpan(8));
            if (BinaryPrimitives.ReadInt64BigEndian(record) == -1 || size > budget)
            {
                break;
            }
            var data = new byte[size];
            file.ReadExactly(data);
            kept.Write(record);
            kept.Write(data);
        }
        BinaryPrimitives.WriteInt64BigEndian(record, -1);
        BinaryPrimitives.WriteInt64BigEndian(record.AsSpan(8), -1);
        kept.Write(record);
        return kept.ToArray();
    }

    /// <summary>A process core's ELF header, program headers and notes; every PT_LOAD then has p_filesz 0, as with dump-guest-core=off.</summary>
    private static byte[] HeadersAndNotes(string path)
    {
        using var file = File.OpenRead(path);
        var head = new byte[64];
        file.ReadExactly(head);
        var phoff = (long)BinaryPrimitives.ReadUInt64LittleEndian(head.AsSpan(32));
        var phnum = BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(56));
        var table = new byte[phnum * 56];
        file.Position = phoff;
        file.ReadExactly(table);
        var notes = new MemoryStream();
        var end = phoff + table.Length;
        for (var i = 0; i < phnum; i++)
        {
            var p = table.AsSpan(i * 56);
            if (BinaryPrimitives.ReadUInt32LittleEndian(p) == 4)
            {
                var data = new byte[BinaryPrimitives.ReadUInt64LittleEndian(p[32..])];
                file.Position = (long)BinaryPrimitives.ReadUInt64LittleEndian(p[8..]);
                file.ReadExactly(data);
                BinaryPrimitives.WriteUInt64LittleEndian(p[8..], (ulong)(end + notes.Length));
                notes.Write(data);
            }
        }
        for (var i = 0; i < phnum; i++)
        {
            var p = table.AsSpan(i * 56);
            if (BinaryPrimitives.ReadUInt32LittleEndian(p) == 1)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(p[8..], (ulong)(end + notes.Length));
                BinaryPrimitives.WriteUInt64LittleEndian(p[32..], 0);
            }
        }
        var result = new MemoryStream();
        result.Write(head);
        result.Position = phoff;
        result.Write(table);
        result.Write(notes.ToArray());
        return result.ToArray();
    }

    /// <summary>"[    7.548321] text" console lines as /dev/kmsg records: "6,SEQ,USEC,-;text", a dictionary line now and then.</summary>
    private static string KmsgFromConsole(IEnumerable<string> lines)
    {
        var text = new StringBuilder();
        var sequence = 0;
        foreach (var line in lines)
        {
            var match = ConsoleLine().Match(line);
            if (!match.Success)
            {
                continue;
            }
            var microseconds = (long)(double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) * 1_000_000);
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{(sequence % 7 == 0 ? 4 : 6)},{sequence},{microseconds},-;{match.Groups[2].Value}\n");
            if (sequence % 5 == 0)
            {
                text.Append(" SUBSYSTEM=virtio\n DEVICE=c4:64\n");
            }
            sequence++;
        }
        return text.ToString();
    }

    [GeneratedRegex(@"^\[\s*(\d+\.\d+)\] (.*)$")]
    private static partial Regex ConsoleLine();

    /// <summary>A real dump's notes with the first pages of its first two ranges that hold data.</summary>
    private sealed class ClippedSource(VmcoreReader reader, int pages) : IGuestMemorySource
    {
        public int PageSize => reader.PageSize;

        public IReadOnlyList<PhysicalRange> Ranges { get; } = reader.Ranges
            .Select(r => new PhysicalRange(r.Start, Math.Min(r.Length, (ulong)(pages * reader.PageSize)))).Take(2).ToArray();

        public IReadOnlyList<ElfNote> Notes => reader.Notes;

        public bool ReadPage(ulong pfn, Span<byte> page) => reader.ReadPage(pfn, page);

        public void Dispose()
        {
        }
    }
}
