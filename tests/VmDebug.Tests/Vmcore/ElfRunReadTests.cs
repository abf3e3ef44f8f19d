using System.Buffers.Binary;
using VmDebug.Engine.Vmcore;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Vmcore;

/// <summary>
/// The ELF reader's run reads (one read per segment piece, what the kdump writer uses) give exactly the bytes and
/// presence that page-by-page reads give, on segments that start and end inside pages, touch, leave holes, and
/// carry p_memsz beyond p_filesz.
/// </summary>
public sealed class ElfRunReadTests : IDisposable
{
    private const int Page = 4096;
    private readonly string _dir = TempFiles.NewDirectory();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void RunReadsEqualPageReadsAtEveryAlignment()
    {
        var path = WriteElf(
            (0x1100, 0x2f00, 0x2f00), // starts mid-page, ends on a page
            (0x4000, 0x1800, 0x1800), // touches the previous one, ends mid-page; pages 6 and 7 are a hole
            (0x8000, 0x3000, 0x5000), // memsz beyond filesz: the bytes past filesz are not in the file
            (0x100000, 0x40000, 0x40000)); // a segment across several batches
        using IGuestMemorySource reader = VmcoreFile.Open(path);
        var single = new byte[Page];
        foreach (var count in new[] { 1, 3, 17, 256 })
        {
            var run = new byte[count * Page];
            var present = new bool[count];
            for (ulong first = 0; first < 0x150; first += (ulong)Math.Max(1, count / 3))
            {
                // Stale bytes and flags must not survive a run read.
                run.AsSpan().Fill(0xcc);
                present.AsSpan().Fill(true);
                reader.ReadPages(first, count, run, present);
                for (var i = 0; i < count; i++)
                {
                    var pfn = first + (ulong)i;
                    Assert.True(reader.ReadPage(pfn, single) == present[i], $"presence of page {pfn} (run of {count} from {first})");
                    Assert.True(single.AsSpan().SequenceEqual(run.AsSpan(i * Page, Page)), $"bytes of page {pfn} (run of {count} from {first})");
                }
            }
        }
        Assert.True(reader.ReadPage(1, single) && single.AsSpan(0, 0x100).IndexOfAnyExcept((byte)0) < 0 && single[0x100] != 0);
        Assert.False(reader.ReadPage(6, single));
    }

    /// <summary>An ET_CORE ELF64 with the given PT_LOADs (physical address, p_filesz, p_memsz) filled with random bytes.</summary>
    private string WriteElf(params (ulong Physical, int FileSize, int MemorySize)[] loads)
    {
        var headers = 64 + 56 * loads.Length;
        var offset = (long)headers;
        var random = new Random(13);
        using var file = File.Create(Path.Combine(_dir, "segments.elf"));
        var header = new byte[headers];
        "\u007fELF"u8.CopyTo(header);
        header[4] = 2; // ELFCLASS64
        header[5] = 1; // little-endian
        header[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(16), 4); // ET_CORE
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(18), 62); // EM_X86_64
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(20), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(32), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(52), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(54), 56);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(56), (ushort)loads.Length);
        for (var i = 0; i < loads.Length; i++)
        {
            var ph = header.AsSpan(64 + 56 * i);
            BinaryPrimitives.WriteUInt32LittleEndian(ph, 1); // PT_LOAD
            BinaryPrimitives.WriteUInt64LittleEndian(ph[8..], (ulong)offset);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[24..], loads[i].Physical);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[32..], (ulong)loads[i].FileSize);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[40..], (ulong)loads[i].MemorySize);
            offset += loads[i].FileSize;
        }
        file.Write(header);
        foreach (var load in loads)
        {
            var data = new byte[load.FileSize];
            random.NextBytes(data);
            data.AsSpan().Replace((byte)0, (byte)1); // no byte of a segment reads as a hole's zero
            file.Write(data);
        }
        return file.Name;
    }
}
