using System.Globalization;
using System.Text.RegularExpressions;
using VmDebug.Engine.Compression;
using VmDebug.Engine.PageFilter;
using VmDebug.Engine.Vmcore;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.PageFilter;

/// <summary>
/// Dump levels against the peers on real panicked guests (6.1 and 6.12): at -d 31 the pages VmDebug keeps are the
/// pages makedumpfile 1.7.2 keeps, bitmap for bitmap, and every difference is explained by the page's struct page;
/// the class counts are makedumpfile's report; crash and makedumpfile read the filtered files in every codec.
/// </summary>
public sealed class DumpLevelPeerTests(DumpLevelGuestsFixture guests) : IClassFixture<DumpLevelGuestsFixture>
{
    public static TheoryData<string> Series => new(DumpLevelGuestsFixture.Series);

    [Theory]
    [MemberData(nameof(Series))]
    public async Task Level31KeepsMakedumpfilesPagesAndCountsItsClasses(string series)
    {
        var ct = TestContext.Current.CancellationToken;
        var makedumpfile = TestEnvironment.RequireTool("makedumpfile", "makedumpfile");
        var (_, elf) = guests.Dump(series);
        var theirs = Path.Combine(guests.Directory, $"mdf-{series}.kdump");
        File.Delete(theirs);
        var run = await TestEnvironment.RunAsync(makedumpfile, ["-c", "-d", "31", "--message-level", "16", elf, theirs]);
        Assert.True(run.ExitCode == 0, $"makedumpfile -c -d 31: {run.Stdout}{run.Stderr}");
        var report = ParseReport(run.Stdout + run.Stderr);

        var ours = Path.Combine(guests.Directory, $"ours-{series}.kdump");
        GuestMemoryUsage counts;
        using (var source = VmcoreFile.Open(elf))
        {
            await using (var output = File.Create(ours))
            {
                counts = await DumpLevelWriter.WriteAsync(source, output, PageCompression.Zlib, 31, elf, null, ct);
            }

            using var mine = Assert.IsType<KdumpReader>(VmcoreFile.Open(ours));
            using var peer = Assert.IsType<KdumpReader>(VmcoreFile.Open(theirs));
            Assert.Equal(peer.Ranges, mine.Ranges);
            Assert.Equal(31, mine.DumpLevel);
            var reader = PageClassifier.Open(source, elf);
            var layout = reader.Layout;
            var slabTakenForAnon = new List<ulong>();
            var tailsOfUnreadableOrder = new List<ulong>();
            var zeroDelta = 0L;
            var page = new byte[source.PageSize];
            for (ulong pfn = 0; pfn < mine.MaxMapnr; pfn++)
            {
                var kept = mine.IsDumped(pfn);
                if (kept == peer.IsDumped(pfn))
                {
                    continue;
                }
                var state = reader.Read(pfn) ?? throw new Xunit.Sdk.XunitException($"PFN 0x{pfn:x} differs but has no struct page");
                var zero = source.ReadPage(pfn, page) && !page.AsSpan().ContainsAnyExcept((byte)0);
                if (kept)
                {
                    // 6.10+ marks slab pages by page type only (no NUMBER(PG_slab)); struct slab puts an odd count where
                    // page.mapping is, which makedumpfile 1.7.2's isAnon() takes for an anonymous page and drops as user data.
                    Assert.True(layout.Slab is null && layout.SlabValue == state.MapCount && (state.Mapping & 1) != 0,
                        $"PFN 0x{pfn:x}: kept by VmDebug, excluded by makedumpfile, and not a page-type slab page: {state}");
                    slabTakenForAnon.Add(pfn);
                    zeroDelta += zero ? 1 : 0;
                }
                else
                {
                    // Without OFFSET(page.compound_order) (6.3+), 1.7.2 cannot size compound pages and keeps their tails.
                    Assert.True(layout.CompoundOrder is null && (state.CompoundHead & 1) != 0,
                        $"PFN 0x{pfn:x}: excluded by VmDebug, kept by makedumpfile, and not a compound tail: {state}");
                    tailsOfUnreadableOrder.Add(pfn);
                    zeroDelta -= zero ? 1 : 0;
                }
            }
            if (series == "6.1")
            {
                Assert.Empty(slabTakenForAnon);
                Assert.Empty(tailsOfUnreadableOrder);
            }
            TestContext.Current.SendDiagnosticMessage(
                $"{series}: {slabTakenForAnon.Count} slab pages makedumpfile drops as user data, {tailsOfUnreadableOrder.Count} compound tails it keeps");

            Assert.Equal(report["Original pages"], counts.Total);
            Assert.Equal(report["Pages filled with zero"] + zeroDelta, counts.Zero);
            Assert.Equal(report["Non-private cache pages"], counts.CacheClean);
            Assert.Equal(report["Private cache pages"], counts.CachePrivate);
            Assert.Equal(report["User process data pages"] - slabTakenForAnon.Count, counts.User - tailsOfUnreadableOrder.Count);
            Assert.Equal(report["Free pages"], counts.Free);
            Assert.Equal(report["Hwpoison pages"], counts.Poisoned);
            Assert.Equal(report["Offline pages"], counts.Offline);
            Assert.True(counts.Free > counts.Total / 2, $"an idle 512 MiB guest is mostly free pages: {counts}");

            // Get-GuestMemoryUsage / vmdebug mem-usage count the same without writing.
            var usage = GuestMemoryUsageReader.Measure(elf, 31, null, ct);
            Assert.Equal((counts.Zero, counts.CacheClean, counts.User, counts.Free, counts.Kept), (usage.Zero, usage.CacheClean, usage.User, usage.Free, usage.Kept));

            // Same pages, same zlib level: no larger than makedumpfile's file but for the pages it wrongly drops.
            Assert.True(new FileInfo(ours).Length <= new FileInfo(theirs).Length + slabTakenForAnon.Count * (source.PageSize + 24L),
                $"ours {new FileInfo(ours).Length} bytes, makedumpfile's {new FileInfo(theirs).Length}");
        }
    }

    [Fact]
    public async Task Level1ZlibHasMakedumpfilesBitmapAndIsNoLarger()
    {
        var ct = TestContext.Current.CancellationToken;
        var makedumpfile = TestEnvironment.RequireTool("makedumpfile", "makedumpfile");
        var (_, elf) = guests.Dump("6.1");
        var theirs = Path.Combine(guests.Directory, "mdf-d1.kdump");
        File.Delete(theirs);
        var run = await TestEnvironment.RunAsync(makedumpfile, ["-c", "-d", "1", "--message-level", "0", elf, theirs]);
        Assert.True(run.ExitCode == 0, $"makedumpfile -c -d 1: {run.Stdout}{run.Stderr}");
        var ours = Path.Combine(guests.Directory, "ours-d1.kdump");
        using (var source = VmcoreFile.Open(elf))
        await using (var output = File.Create(ours))
        {
            await DumpLevelWriter.WriteAsync(source, output, PageCompression.Zlib, 1, elf, null, ct);
        }
        using (var mine = Assert.IsType<KdumpReader>(VmcoreFile.Open(ours)))
        using (var peer = Assert.IsType<KdumpReader>(VmcoreFile.Open(theirs)))
        {
            Assert.Equal(peer.Ranges, mine.Ranges);
            Assert.Equal(peer.DumpedPageCount, mine.DumpedPageCount);
            for (ulong pfn = 0; pfn < peer.MaxMapnr; pfn++)
            {
                Assert.True(peer.IsDumped(pfn) == mine.IsDumped(pfn), $"PFN 0x{pfn:x}");
            }
        }
        // Same pages, libz at the same level: never larger.
        Assert.True(new FileInfo(ours).Length <= new FileInfo(theirs).Length, $"ours {new FileInfo(ours).Length}, makedumpfile's {new FileInfo(theirs).Length}");
    }

    [Theory]
    [MemberData(nameof(Series))]
    public async Task Level31DumpsInEveryCodecOpenInCrashAndMakedumpfile(string series)
    {
        var ct = TestContext.Current.CancellationToken;
        TestEnvironment.RequireTool("crash", "crash");
        var (image, elf) = guests.Dump(series);
        using var source = VmcoreFile.Open(elf);
        // crash 8.0.2 (Debian 12) exits silently on 6.12's vmlinux, before opening any dump, QEMU's own unfiltered ELF
        // included. Then the filtered files are held to that ELF instead: same pages read back, and makedumpfile's log.
        var crashReadsKernel = series != "6.12" || await CrashRunsAsync(image.Vmlinux!, elf);
        foreach (var compression in new[] { PageCompression.Zlib, PageCompression.Lzo, PageCompression.Snappy, PageCompression.Zstd })
        {
            var path = Path.Combine(guests.Directory, $"d31-{series}.{compression}.kdump");
            await using (var output = File.Create(path))
            {
                await DumpLevelWriter.WriteAsync(source, output, compression, 31, elf, null, ct);
            }

            if (!crashReadsKernel)
            {
                AssertKeptPagesReadBack(source, path);
                if (compression is PageCompression.Zlib or PageCompression.Lzo)
                {
                    Assert.Contains("Kernel panic - not syncing", await PeerTools.MakedumpfileDmesgAsync(path));
                }
                File.Delete(path);
                continue;
            }
            var result = await RunCrashAsync(image.Vmlinux!, path);
            var text = result.Stdout;
            Assert.True(result.ExitCode == 0, $"crash on {compression} -d 31 ({series}): {result.Stdout}{result.Stderr}");
            Assert.Contains("Kernel panic - not syncing", text);
            Assert.Contains("vmdebug marker 8", text);
            Assert.Matches(@"PID: \d+\s+TASK: [0-9a-f]+", text);          // bt
            Assert.Matches(@"\n>?\s+1\s+0\s+\d+\s+[0-9a-f]+\s+\S+\s+[\d.]+\s+\d+\s+\d+\s+init", text); // ps: PID 1 is /init
            Assert.Matches(@"TOTAL MEM\s+\d+", text);                     // kmem -i
            Assert.DoesNotContain("page excluded", text);
            Assert.DoesNotContain("invalid kernel virtual address", text);
            if (compression is PageCompression.Zlib or PageCompression.Lzo)
            {
                Assert.Contains("Kernel panic - not syncing", await PeerTools.MakedumpfileDmesgAsync(path));
            }
            File.Delete(path);
        }
    }

    /// <summary>crash with log, bt, ps and kmem -i; 5-8 s alone, far longer when the machine is shared.</summary>
    private static Task<(int ExitCode, string Stdout, string Stderr)> RunCrashAsync(string vmlinux, string path)
        => PeerTools.RunCrashAsync(vmlinux, path, "log\nbt\nps\nkmem -i\n", TimeSpan.FromMinutes(8));

    private static async Task<bool> CrashRunsAsync(string vmlinux, string elf)
    {
        var result = await PeerTools.RunCrashAsync(vmlinux, elf, "log\n", TimeSpan.FromMinutes(3));
        var runs = result.ExitCode == 0 && result.Stdout.Contains("Kernel panic - not syncing");
        // 8.0.2 predates 6.12: it either exits silently or says the vmlinux and the dump "do not match" (both seen).
        var refused = result.ExitCode != 0
            && (result.Stdout.Length == 0 || (result.Stdout + result.Stderr).Contains("do not match!", StringComparison.Ordinal));
        Assert.True(runs || refused,
            $"crash neither read the unfiltered ELF nor refused it as 8.0.2 does on 6.12: {result.Stdout}{result.Stderr}");
        TestContext.Current.SendDiagnosticMessage(runs ? "crash reads the 6.12 kernel" : "crash 8.0.2 cannot read the 6.12 vmlinux; checked pages instead");
        return runs;
    }

    /// <summary>Every page the filtered file keeps reads back as the unfiltered dump has it.</summary>
    private static void AssertKeptPagesReadBack(IGuestMemorySource source, string path)
    {
        using var filtered = Assert.IsType<KdumpReader>(VmcoreFile.Open(path));
        var expected = new byte[source.PageSize];
        var actual = new byte[source.PageSize];
        long kept = 0;
        for (ulong pfn = 0; pfn < filtered.MaxMapnr; pfn++)
        {
            if (filtered.ReadPage(pfn, actual))
            {
                Assert.True(source.ReadPage(pfn, expected) && expected.AsSpan().SequenceEqual(actual), $"page 0x{pfn:x} of {path}");
                kept++;
            }
        }
        Assert.Equal(filtered.DumpedPageCount, kept);
    }

    private static Dictionary<string, long> ParseReport(string text)
    {
        var values = new Dictionary<string, long>();
        foreach (Match match in Regex.Matches(text, @"^\s*([A-Za-z][A-Za-z -]*?)\s*: 0x([0-9a-f]+)\s*$", RegexOptions.Multiline))
        {
            values.TryAdd(match.Groups[1].Value, long.Parse(match.Groups[2].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        }
        foreach (var key in new[] { "Original pages", "Pages filled with zero", "Non-private cache pages", "Private cache pages", "User process data pages",
                     "Free pages", "Hwpoison pages", "Offline pages" })
        {
            Assert.True(values.ContainsKey(key), $"makedumpfile's report has no '{key}': {text}");
        }
        return values;
    }
}
