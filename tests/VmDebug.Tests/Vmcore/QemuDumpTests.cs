using System.Globalization;
using System.Text.RegularExpressions;
using VmDebug.Engine.Compression;
using VmDebug.Engine.Vmcore;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Vmcore;

/// <summary>Readers, repairs and writers against QEMU's real dump output, checked with readelf and makedumpfile.</summary>
public sealed partial class QemuDumpTests(QemuDumpFixture qemu) : IClassFixture<QemuDumpFixture>, IDisposable
{
    private readonly string _dir = TempFiles.NewDirectory();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void QemuElfRangesMatchReadelf()
    {
        qemu.SkipIfUnavailable();
        var readelf = Tools.Require("readelf", "binutils");
        using var reader = Assert.IsType<ElfVmcoreReader>(VmcoreFile.Open(qemu.ElfPath));

        var expected = ReadelfLoads(readelf, qemu.ElfPath);
        Assert.NotEmpty(expected);
        Assert.Equal(ElfVmcoreReader.MergeRanges(expected.OrderBy(r => r.Start).ToArray()), reader.Ranges);
        Assert.Contains(reader.Notes, n => n.Name == "QEMU");
        Assert.Contains(reader.Notes, n => n.Name == "CORE" && n.Type == 1);
        Assert.Null(reader.VmcoreInfo);
    }

    [Fact]
    public void QemuElfAndFlattenedKdumpOfTheSameStoppedGuestHoldTheSamePages()
    {
        qemu.SkipIfUnavailable();
        using var elf = VmcoreFile.Open(qemu.ElfPath);
        using var kdump = Assert.IsType<KdumpReader>(VmcoreFile.Open(qemu.KdumpPath));
        Assert.Equal(VmcoreFormat.FlattenedKdump, kdump.Format);
        Assert.Equal(elf.Ranges, kdump.Ranges);

        var a = new byte[4096];
        var b = new byte[4096];
        long pages = 0, nonZero = 0;
        foreach (var range in elf.Ranges)
        {
            for (var pfn = range.Start / 4096; pfn < range.End / 4096; pfn++)
            {
                Assert.True(elf.ReadPage(pfn, a));
                Assert.True(kdump.ReadPage(pfn, b), $"PFN {pfn} is missing from the kdump file");
                Assert.True(a.AsSpan().SequenceEqual(b), $"PFN {pfn} differs between QEMU's ELF and kdump output");
                pages++;
                nonZero += a.AsSpan().ContainsAnyExcept((byte)0) ? 1 : 0;
            }
        }
        Assert.Equal(256L * 1024 * 1024 / 4096 + 0x40000 / 4096, pages); // RAM plus the 256 KiB BIOS ROM
        Assert.True(nonZero > 0);
    }

    [Fact]
    public async Task FlattenedReassemblyEqualsMakedumpfileR()
    {
        qemu.SkipIfUnavailable();
        var makedumpfile = Tools.Require("makedumpfile", "makedumpfile");
        var theirs = Path.Combine(_dir, "theirs.kdump");
        var result = Tools.Run(makedumpfile, ["-R", theirs], stdinPath: qemu.KdumpPath);
        Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);

        var ours = Path.Combine(_dir, "ours.kdump");
        var repairs = await VmcoreRepairer.RepairAsync(qemu.KdumpPath, ours, cancellationToken: TestContext.Current.CancellationToken);

        // Without VMCOREINFO (nothing booted) reassembly is the only repair, so the bytes must match exactly.
        Assert.Equal([VmcoreRepairer.FlattenedReassembled], repairs.Select(r => r.Code));
        Assert.Equal(File.ReadAllBytes(theirs), File.ReadAllBytes(ours));
    }

    [Fact]
    public async Task RepairedQemuElfHasProgramHeadersAt64PerReadelfAndTheSamePages()
    {
        qemu.SkipIfUnavailable();
        var readelf = Tools.Require("readelf", "binutils");
        using var original = Assert.IsType<ElfVmcoreReader>(VmcoreFile.Open(qemu.ElfPath));
        var needed = VmcoreRepairer.Plan(original).Select(r => r.Code).ToList();
        if (original.Layout.ProgramHeaderOffset != 64)
        {
            Assert.Equal([VmcoreRepairer.ElfHeaderRelaidOut], needed);
        }

        var repaired = Path.Combine(_dir, "fixed.elf");
        await VmcoreRepairer.RepairAsync(qemu.ElfPath, repaired, cancellationToken: TestContext.Current.CancellationToken);

        var header = Tools.Run(readelf, ["-h", "-W", repaired]);
        Assert.Equal(0, header.ExitCode);
        Assert.Matches(@"Start of program headers:\s+64 \(bytes into file\)", header.Stdout);
        Assert.Matches(@"Size of this header:\s+64 \(bytes\)", header.Stdout);
        Assert.Equal(ReadelfLoads(readelf, qemu.ElfPath), ReadelfLoads(readelf, repaired));
        var notes = Tools.Run(readelf, ["-n", "-W", repaired]);
        Assert.Contains("NT_PRSTATUS", notes.Stdout);
        Assert.Empty(notes.Stderr);

        using var fixedReader = VmcoreFile.Open(repaired);
        AssertSameMemory(original, fixedReader);
        // Sparse copy: the reset guest's RAM is mostly zeros, which must stay holes (stat %b counts 512-byte blocks).
        var allocated = long.Parse(Tools.Run("stat", ["-c", "%b", repaired]).Stdout.Trim(), CultureInfo.InvariantCulture) * 512;
        Assert.True(allocated < new FileInfo(repaired).Length / 4, $"{allocated} bytes allocated");
    }

    [Fact]
    public async Task ElfWrittenFromQemuKdumpIsReadByReadelf()
    {
        qemu.SkipIfUnavailable();
        var readelf = Tools.Require("readelf", "binutils");
        using var source = VmcoreFile.Open(qemu.KdumpPath);
        var path = Path.Combine(_dir, "ours.elf");
        await using (var output = File.Create(path))
        {
            await ElfVmcoreWriter.WriteAsync(source, output, cancellationToken: TestContext.Current.CancellationToken);
        }
        var loads = ReadelfLoads(readelf, path);
        Assert.Equal(source.Ranges, loads);
        var notes = Tools.Run(readelf, ["-n", "-W", path]);
        Assert.Equal(0, notes.ExitCode);
        Assert.Empty(notes.Stderr);
        Assert.Equal(source.Notes.Count, NoteLine().Matches(notes.Stdout).Count);
        using var reader = VmcoreFile.Open(path);
        AssertSameMemory(source, reader);
    }

    [Theory]
    [InlineData(PageCompression.Zlib)]
    [InlineData(PageCompression.Lzo)]
    [InlineData(PageCompression.Snappy)]
    [InlineData(PageCompression.Zstd)]
    public async Task KdumpWrittenFromQemuElfHoldsTheSameMemory(PageCompression compression)
    {
        qemu.SkipIfUnavailable();
        if (!PageCodec.IsAvailable(compression))
        {
            Assert.Skip($"the {compression} library is not installed");
        }
        using var source = VmcoreFile.Open(qemu.ElfPath);
        var path = Path.Combine(_dir, $"ours.{compression}");
        await using (var output = File.Create(path))
        {
            await KdumpWriter.WriteAsync(source, output, new KdumpWriteOptions { Compression = compression },
                cancellationToken: TestContext.Current.CancellationToken);
        }
        using var reader = VmcoreFile.Open(path);
        Assert.Equal(source.Ranges, reader.Ranges);
        AssertSameMemory(source, reader);
        Assert.True(new FileInfo(path).Length < new FileInfo(qemu.KdumpPath).Length * 2);
    }

    private static void AssertSameMemory(IGuestMemorySource expected, IGuestMemorySource actual)
    {
        var a = new byte[4096];
        var b = new byte[4096];
        foreach (var range in expected.Ranges)
        {
            for (var pfn = range.Start / 4096; pfn < range.End / 4096; pfn++)
            {
                expected.ReadPage(pfn, a);
                actual.ReadPage(pfn, b);
                Assert.True(a.AsSpan().SequenceEqual(b), $"PFN {pfn} differs");
            }
        }
    }

    /// <summary>PT_LOAD physical ranges as binutils' readelf reports them.</summary>
    private static List<PhysicalRange> ReadelfLoads(string readelf, string path)
    {
        var result = Tools.Run(readelf, ["-l", "-W", path]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        return LoadLine().Matches(result.Stdout)
            .Select(m => new PhysicalRange(
                ulong.Parse(m.Groups["paddr"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                ulong.Parse(m.Groups["memsz"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture)))
            .ToList();
    }

    // -W prints: LOAD 0xOFFSET 0xVADDR 0xPADDR 0xFILESZ 0xMEMSZ FLAGS ALIGN
    [GeneratedRegex(@"^\s*LOAD\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+0x(?<paddr>[0-9a-f]+)\s+0x[0-9a-f]+\s+0x(?<memsz>[0-9a-f]+)", RegexOptions.Multiline)]
    private static partial Regex LoadLine();

    [GeneratedRegex(@"^\s+(CORE|QEMU|VMCOREINFO)\s+0x[0-9a-f]+", RegexOptions.Multiline)]
    private static partial Regex NoteLine();
}
