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
