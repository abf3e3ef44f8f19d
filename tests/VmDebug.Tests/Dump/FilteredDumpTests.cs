using System.Text.Json.Nodes;
using VmDebug.Engine;
using VmDebug.Engine.Dump;
using VmDebug.Engine.Vmcore;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Dump;

/// <summary>
/// Live dumps VmDebug writes itself (a dump level, or zstd, which QEMU cannot write): QEMU hands over an ELF,
/// VmDebug filters and compresses; the file is private, counted per class, and nothing else is left behind.
/// </summary>
public sealed class FilteredDumpTests(PanickedGuestFixture fixture) : IClassFixture<PanickedGuestFixture>
{
    [Fact]
    public async Task ZstdAtLevel31OverQmpKeepsAFractionAndLeavesOnlyTheFile()
    {
        var ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory();
        var path = directory.File("vmcore.zst");
        var dump = await GuestMemoryDumper.DumpAsync(
            new DumpRequest { QmpSocket = fixture.Guest.QmpSocketPath, Path = path, Format = DumpFormat.KdumpZstd, DumpLevel = 31 },
            new CallbackProgress<OperationProgress>(_ => { }), ct);

        Assert.Equal(DumpFormat.KdumpZstd, dump.Format);
        Assert.Equal(31, dump.DumpLevel);
        var pages = Assert.IsType<GuestMemoryUsage>(dump.Pages);
        Assert.True(pages.Free > pages.Total / 2 && pages.Kept < pages.Total / 4, pages.ToString());
        QmpDumpTests.AssertPrivateFile(path);
        Assert.Equal([path], Directory.GetFileSystemEntries(directory.Path));
        using (var reader = Assert.IsType<KdumpReader>(VmcoreFile.Open(path)))
        {
            Assert.Equal(31, reader.DumpLevel);
            Assert.Equal(pages.Kept + pages.Zero, reader.DumpedPageCount);
        }

        // vmdebug mem-usage on the filtered file: its free, cache and user pages are gone, the zero ones are shared.
        var (exit, stdout, stderr) = await Support.Cli.RunAsync("mem-usage", "--input", path, "--json");
        Assert.True(exit == 0, stderr);
        var usage = JsonNode.Parse(stdout)!;
        Assert.Equal(pages.Free, (long)usage["free"]!);
        Assert.Equal(pages.Kept, (long)usage["kept"]!);

        // Classified while the guest was paused, from its live struct pages: the spool held only the kept pages, raw.
        Assert.NotNull(dump.ClassifiedWhilePaused);
        Assert.Equal(pages.Kept * pages.PageSize, dump.SpoolBytes);

        // The same page set as classifying a whole ELF dump of the same paused guest afterwards (vmdebug convert).
        var elf = directory.File("vmcore.elf");
        await GuestMemoryDumper.DumpAsync(new DumpRequest { QmpSocket = fixture.Guest.QmpSocketPath, Path = elf, Format = DumpFormat.Elf },
            new CallbackProgress<OperationProgress>(_ => { }), ct);
        var converted = directory.File("converted.zst");
        var convert = await Support.Cli.RunAsync("convert", "--input", elf, "--output", converted, "--format", "kdump-zstd", "--dump-level", "31", "--json");
        Assert.True(convert.ExitCode == 0, convert.Stderr);
        var convertedPages = JsonNode.Parse(convert.Stdout)!["pages"]!;
        foreach (var (name, count) in new[] { ("kept", pages.Kept), ("zero", pages.Zero), ("free", pages.Free), ("user", pages.User), ("cacheClean", pages.CacheClean) })
        {
            Assert.True(count == (long)convertedPages[name]!, $"{name}: streamed {count}, converted {convertedPages[name]}");
        }
        using var streamed = Assert.IsType<KdumpReader>(VmcoreFile.Open(path));
        using var afterwards = Assert.IsType<KdumpReader>(VmcoreFile.Open(converted));
        Assert.Equal(afterwards.MaxMapnr, streamed.MaxMapnr);
        var differing = Enumerable.Range(0, (int)streamed.MaxMapnr).Select(p => (ulong)p).Where(p => streamed.IsDumped(p) != afterwards.IsDumped(p)).Take(5).ToList();
        Assert.True(differing.Count == 0, $"PFNs dumped in one file only: {string.Join(", ", differing.Select(p => $"0x{p:x}"))}");
    }

    [Fact]
    public async Task ElfWithADumpLevelIsRefusedBeforeTheGuestIsTouched()
    {
        var ct = TestContext.Current.CancellationToken;
        using var directory = new TempDirectory();
        var refused = await Assert.ThrowsAsync<VmDebugException>(() => GuestMemoryDumper.DumpAsync(
            new DumpRequest { QmpSocket = fixture.Guest.QmpSocketPath, Path = directory.File("vmcore"), Format = DumpFormat.Elf, DumpLevel = 31 },
            new CallbackProgress<OperationProgress>(_ => { }), ct));
        Assert.Equal("DumpLevelNeedsKdump", refused.ErrorId);
        Assert.Empty(Directory.GetFileSystemEntries(directory.Path));
        var invalid = await Assert.ThrowsAsync<VmDebugException>(() => GuestMemoryDumper.DumpAsync(
            new DumpRequest { QmpSocket = fixture.Guest.QmpSocketPath, Path = directory.File("vmcore"), Format = DumpFormat.KdumpLzo, DumpLevel = 32 },
            new CallbackProgress<OperationProgress>(_ => { }), ct));
        Assert.Equal("DumpLevelInvalid", invalid.ErrorId);
        Assert.Empty(Directory.GetFileSystemEntries(directory.Path));
    }
}
