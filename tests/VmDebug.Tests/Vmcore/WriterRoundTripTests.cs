using VmDebug.Engine;
using VmDebug.Engine.Compression;
using VmDebug.Engine.Vmcore;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Vmcore;

public sealed class WriterRoundTripTests : IDisposable
{
    private readonly string _dir = TempFiles.NewDirectory();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<PageCompression, ZeroPagePolicy> KdumpVariants()
    {
        var data = new TheoryData<PageCompression, ZeroPagePolicy>();
        foreach (var compression in Enum.GetValues<PageCompression>())
        {
            data.Add(compression, ZeroPagePolicy.Exclude);
            data.Add(compression, ZeroPagePolicy.Share);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(KdumpVariants))]
    public async Task KdumpWriterOutputReadsBackPageForPage(PageCompression compression, ZeroPagePolicy zeroPages)
    {
        if (!PageCodec.IsAvailable(compression))
        {
            Assert.Skip($"the {compression} library is not installed");
        }
        var absent = new HashSet<ulong> { 5, 6, 0x101 };
        using var source = new SyntheticSource(SyntheticSource.SmallRanges, SyntheticSource.PlausibleVmcoreInfo, absent: absent);
        var path = await DumpFiles.WriteKdumpAsync(source, Path.Combine(_dir, "out.kdump"), compression, zeroPages);

        using var reader = Assert.IsType<KdumpReader>(VmcoreFile.Open(path));
        Assert.Equal(VmcoreFormat.Kdump, reader.Format);
        Assert.Equal(source.Ranges, reader.Ranges);
        DumpFiles.AssertSamePages(source, reader, zeroPagesMayBeAbsent: zeroPages == ZeroPagePolicy.Exclude);
        Assert.Equal(source.Notes.Select(n => (n.Name, n.Type, Convert.ToHexString(n.Descriptor))),
            reader.Notes.Select(n => (n.Name, n.Type, Convert.ToHexString(n.Descriptor))));
        Assert.Equal(-434110464L, reader.HeaderPhysBase);
        Assert.Equal("6.1.0-28-cloud-amd64", reader.Release);
        Assert.Equal("x86_64", reader.Machine);
        var zeroPagesInSource = source.PresentPfns.Count(p => !source.Expected(p).AsSpan().ContainsAnyExcept((byte)0));
        var expectedDumped = source.PresentPfns.Count() - (zeroPages == ZeroPagePolicy.Exclude ? zeroPagesInSource : 0);
        Assert.Equal(expectedDumped, reader.DumpedPageCount);
        Assert.Empty(VmcoreRepairer.Plan(reader));
    }

    [Fact]
    public async Task ExcludedPagesLeaveNoReservedRoomWhetherTheGapIsCollapsedOrCopied()
    {
        var ct = TestContext.Current.CancellationToken;
        using var source = new SyntheticSource(SyntheticSource.SmallRanges, SyntheticSource.PlausibleVmcoreInfo);
        var excluded = new PfnBitmap(source.Ranges[^1].End / SyntheticSource.Page);
        excluded.SetRange(0x100, 0x80);
        var options = new KdumpWriteOptions { Compression = PageCompression.Lzo, ZeroPages = ZeroPagePolicy.Exclude, ExcludedPages = excluded, DumpLevel = 31 };
        var onDisk = Path.Combine(_dir, "collapsed.kdump");
        await using (var file = File.Create(onDisk))
        {
            await KdumpWriter.WriteAsync(source, file, options, cancellationToken: ct);
        }
        using var memory = new MemoryStream(); // no fallocate: the data is copied down instead
        await KdumpWriter.WriteAsync(source, memory, options, cancellationToken: ct);
        var copied = Path.Combine(_dir, "copied.kdump");
        await File.WriteAllBytesAsync(copied, memory.ToArray(), ct);

        foreach (var path in new[] { onDisk, copied })
        {
            using var reader = Assert.IsType<KdumpReader>(VmcoreFile.Open(path));
            var kept = source.PresentPfns.Where(p => !excluded[p] && source.Expected(p).AsSpan().ContainsAnyExcept((byte)0)).ToList();
            Assert.Equal(kept.Count, reader.DumpedPageCount);
            Assert.Equal(31, reader.DumpLevel);
            var page = new byte[SyntheticSource.Page];
            foreach (var pfn in source.PresentPfns)
            {
                Assert.Equal(kept.Contains(pfn), reader.ReadPage(pfn, page));
                Assert.True(!kept.Contains(pfn) || page.AsSpan().SequenceEqual(source.Expected(pfn)), $"page {pfn} of {Path.GetFileName(path)}");
            }
            // Data starts at the first block after the last descriptor: no room is left for the pages dropped.
            var bytes = await File.ReadAllBytesAsync(path, ct);
            var header = DiskDumpHeader.Read(bytes);
            var descriptors = (1L + header.SubHeaderBlocks + header.BitmapBlocks) * header.BlockSize;
            var first = PageDescriptor.Read(bytes.AsSpan((int)descriptors));
            Assert.Equal(FileAlignment.AlignUp(descriptors + kept.Count * KdumpLayout.PageDescSize, header.BlockSize), first.Offset);
        }
        var collapsedBytes = await File.ReadAllBytesAsync(onDisk, ct);
        var copiedBytes = await File.ReadAllBytesAsync(copied, ct);
        collapsedBytes.AsSpan(KdumpLayout.TimestampSeconds, 16).Clear();
        copiedBytes.AsSpan(KdumpLayout.TimestampSeconds, 16).Clear();
        Assert.Equal(collapsedBytes, copiedBytes);
    }

    [Fact]
    public async Task CompressionShrinksTheFileAndIncompressiblePagesAreStoredRaw()
    {
        using var source = new SyntheticSource([new PhysicalRange(0, 4 << 20)], null);
        var raw = await DumpFiles.WriteKdumpAsync(source, Path.Combine(_dir, "raw.kdump"), PageCompression.None);
        var zlib = await DumpFiles.WriteKdumpAsync(source, Path.Combine(_dir, "zlib.kdump"), PageCompression.Zlib);
        // A quarter of the pages are random: the zlib file is at least that quarter, and less than the raw one.
        Assert.InRange(new FileInfo(zlib).Length, (4 << 20) / 4, new FileInfo(raw).Length * 2 / 3);
        using var reader = VmcoreFile.Open(zlib);
        DumpFiles.AssertSamePages(source, reader, zeroPagesMayBeAbsent: true);
    }

    [Fact]
    public async Task ElfWriterOutputReadsBackAndHasMakedumpfileLayout()
    {
        using var source = new SyntheticSource(SyntheticSource.SmallRanges, SyntheticSource.PlausibleVmcoreInfo);
        var path = await DumpFiles.WriteElfAsync(source, Path.Combine(_dir, "out.elf"));

        using var reader = Assert.IsType<ElfVmcoreReader>(VmcoreFile.Open(path));
        Assert.Equal(64UL, reader.Layout.ProgramHeaderOffset);
        Assert.Equal(ElfProgramHeader.PtNote, reader.Layout.ProgramHeaders[0].Type);
        Assert.Equal(source.Ranges, reader.Ranges);
        DumpFiles.AssertSamePages(source, reader, zeroPagesMayBeAbsent: false);
        Assert.Equal(-434110464L, reader.VmcoreInfo?.PhysBase);
        Assert.Empty(VmcoreRepairer.Plan(reader));
    }

    [Fact]
    public async Task ProgressEndsCompletedAndCancellationStops()
    {
        using var source = new SyntheticSource([new PhysicalRange(0, 8 << 20)], null);
        var reports = new List<OperationProgress>();
        await using (var output = File.Create(Path.Combine(_dir, "p.kdump")))
        {
            await KdumpWriter.WriteAsync(source, output, null, new CallbackProgress<OperationProgress>(reports.Add), TestContext.Current.CancellationToken);
        }
        Assert.True(reports[^1].Completed);
        Assert.Equal(8L << 20, reports[^1].BytesDone);

        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await using var second = File.Create(Path.Combine(_dir, "c.kdump"));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => KdumpWriter.WriteAsync(source, second, null, null, cancelled.Token));
    }
}
