using System.Buffers.Binary;
using VmDebug.Engine.Compression;
using VmDebug.Engine.Vmcore;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Vmcore;

public sealed class FlattenedAndRepairTests : IDisposable
{
    private readonly string _dir = TempFiles.NewDirectory();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task FlattenedKdumpReadsLikeTheSeekableFileAndReassemblesToItByteForByte()
    {
        using var source = new SyntheticSource(SyntheticSource.SmallRanges, null, seed: 5);
        var seekable = await DumpFiles.WriteKdumpAsync(source, Path.Combine(_dir, "a.kdump"), PageCompression.Zlib);
        var flat = Path.Combine(_dir, "a.flat");
        DumpFiles.Flatten(seekable, flat, seed: 11);

        using (var reader = VmcoreFile.Open(flat))
        {
            Assert.Equal(VmcoreFormat.FlattenedKdump, reader.Format);
            DumpFiles.AssertSamePages(source, reader, zeroPagesMayBeAbsent: true);
        }

        var repaired = Path.Combine(_dir, "a.repaired");
        var repairs = await VmcoreRepairer.RepairAsync(flat, repaired, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal([VmcoreRepairer.FlattenedReassembled], repairs.Select(r => r.Code));
        Assert.Equal(File.ReadAllBytes(seekable), File.ReadAllBytes(repaired));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(repaired));
        }
    }

    [Fact]
    public async Task KdumpRepairWritesVmcoreinfoPhysBaseAndReleaseIntoTheHeader()
    {
        using var source = new SyntheticSource(SyntheticSource.SmallRanges, SyntheticSource.PlausibleVmcoreInfo);
        var path = await DumpFiles.WriteKdumpAsync(source, Path.Combine(_dir, "q.kdump"), PageCompression.Zlib, ZeroPagePolicy.Share);
        // Make it look like QEMU 7.2's: phys_base parsed as hex, utsname release empty.
        await using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            var wrong = new byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(wrong, unchecked((long)0xfffffffbe43e5000UL));
            file.Seek(4096, SeekOrigin.Begin);
            file.Write(wrong);
            file.Seek(12 + 2 * 65, SeekOrigin.Begin);
            file.Write(new byte[65]);
        }
        var summary = VmcoreFile.Describe(path);
        Assert.Equal([VmcoreRepairer.PhysBaseCorrected, VmcoreRepairer.UtsReleaseFilled], summary.NeededRepairs);
        Assert.Equal(-434110464L, summary.PhysBase);
        Assert.NotEqual(summary.PhysBase, summary.HeaderPhysBase);

        var flat = Path.Combine(_dir, "q.flat");
        DumpFiles.Flatten(path, flat, seed: 3);
        var repaired = Path.Combine(_dir, "q.fixed");
        var repairs = await VmcoreRepairer.RepairAsync(flat, repaired, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal([VmcoreRepairer.FlattenedReassembled, VmcoreRepairer.PhysBaseCorrected, VmcoreRepairer.UtsReleaseFilled], repairs.Select(r => r.Code));
        using var reader = Assert.IsType<KdumpReader>(VmcoreFile.Open(repaired));
        Assert.Equal(-434110464L, reader.HeaderPhysBase);
        Assert.Equal("6.1.0-28-cloud-amd64", reader.Release);
        DumpFiles.AssertSamePages(source, reader, zeroPagesMayBeAbsent: false);
        Assert.Empty(VmcoreFile.Describe(repaired).NeededRepairs);
    }

    [Fact]
    public async Task ElfWithQemuHeaderLayoutIsRelaidOutKeepingData()
    {
        using var source = new SyntheticSource(SyntheticSource.SmallRanges, SyntheticSource.PlausibleVmcoreInfo);
        var ours = await DumpFiles.WriteElfAsync(source, Path.Combine(_dir, "ours.elf"));
        var qemuStyle = Path.Combine(_dir, "qemu.elf");
        MakeQemuStyle(ours, qemuStyle);
        using (var reader = Assert.IsType<ElfVmcoreReader>(VmcoreFile.Open(qemuStyle)))
        {
            Assert.Equal(192UL, reader.Layout.ProgramHeaderOffset);
            DumpFiles.AssertSamePages(source, reader, zeroPagesMayBeAbsent: false);
        }

        var repaired = Path.Combine(_dir, "fixed.elf");
        var repairs = await VmcoreRepairer.RepairAsync(qemuStyle, repaired, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal([VmcoreRepairer.ElfHeaderRelaidOut], repairs.Select(r => r.Code));
        using var fixedReader = Assert.IsType<ElfVmcoreReader>(VmcoreFile.Open(repaired));
        Assert.Equal(64UL, fixedReader.Layout.ProgramHeaderOffset);
        Assert.Equal(64, fixedReader.Layout.HeaderSize);
        DumpFiles.AssertSamePages(source, fixedReader, zeroPagesMayBeAbsent: false);
        Assert.Equal(source.Notes.Count, fixedReader.Notes.Count);
    }

    [Fact]
    public async Task RepairRefusesAnExistingOutput()
    {
        using var source = new SyntheticSource(SyntheticSource.SmallRanges, null);
        var path = await DumpFiles.WriteElfAsync(source, Path.Combine(_dir, "x.elf"));
        var existing = Path.Combine(_dir, "exists");
        File.WriteAllText(existing, "keep");
        var error = await Assert.ThrowsAsync<VmDebug.Engine.VmDebugException>(() =>
            VmcoreRepairer.RepairAsync(path, existing, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal("VmcoreOutputExists", error.ErrorId);
        Assert.Equal("keep", File.ReadAllText(existing));
    }

    /// <summary>
    /// Rewrites an ELF vmcore into QEMU 7.2's layout: two section headers at 64 (NULL, .shstrtab at the end),
    /// program headers at 192, e_ehsize 8 as QEMU writes it.
    /// </summary>
    private static void MakeQemuStyle(string input, string output)
    {
        var data = File.ReadAllBytes(input);
        var phnum = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(56));
        var notesOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(64 + 8));
        var shift = 192 + phnum * 56 - (int)notesOffset;
        Assert.True(shift > 0);
        var result = new byte[data.Length + shift + 11];
        data.AsSpan(0, 64).CopyTo(result);
        data.AsSpan((int)notesOffset).CopyTo(result.AsSpan((int)notesOffset + shift));
        for (var i = 0; i < phnum; i++)
        {
            var ph = data.AsSpan(64 + i * 56, 56).ToArray();
            BinaryPrimitives.WriteUInt64LittleEndian(ph.AsSpan(8), BinaryPrimitives.ReadUInt64LittleEndian(ph.AsSpan(8)) + (ulong)shift);
            ph.CopyTo(result.AsSpan(192 + i * 56));
        }
        var strtabOffset = data.Length + shift;
        ".shstrtab\0"u8.CopyTo(result.AsSpan(strtabOffset + 1));
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(128 + 4), 3); // SHT_STRTAB
        BinaryPrimitives.WriteUInt64LittleEndian(result.AsSpan(128 + 24), (ulong)strtabOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(result.AsSpan(128 + 32), 11);
        BinaryPrimitives.WriteUInt64LittleEndian(result.AsSpan(32), 192);
        BinaryPrimitives.WriteUInt64LittleEndian(result.AsSpan(40), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(52), 8);
        BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(58), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(60), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(62), 1);
        File.WriteAllBytes(output, result);
    }
}
