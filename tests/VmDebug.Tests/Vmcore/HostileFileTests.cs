using System.Globalization;
using System.Text.Json.Nodes;
using VmDebug.Engine;
using VmDebug.Engine.Vmcore;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Vmcore;

/// <summary>
/// The review's hostile dumps (tests/VmDebug.Tests/Support/TestData/hostile, 8-12 KiB each) through vmdebug convert to
/// every format and through the repairer: each ends in a typed error or a small correct file, quickly and in little memory.
/// </summary>
[Collection(LatencySensitiveCollection.Name)] // timed, and allocation is measured process-wide
public sealed class HostileFileTests
{
    private static readonly string[] Formats = ["elf", "kdump-zlib", "kdump-lzo", "kdump-snappy", "kdump-zstd"];
    private const long MaxPeakRssKiB = 256 * 1024;
    private static readonly TimeSpan MaxTime = TimeSpan.FromSeconds(5);

    public static string HostileDirectory => Path.Combine(AppContext.BaseDirectory, "Support", "TestData", "hostile");

    public static TheoryData<string> Fixtures() => new(Directory.GetFiles(HostileDirectory).Select(Path.GetFileName).Order().Cast<string>());

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task ConvertToEveryFormatEndsTypedOrSmallWithinBounds(string fixture)
    {
        var time = TestEnvironment.RequireTool("time", "time");
        using var scratch = new TempDirectory();
        var input = Path.Combine(HostileDirectory, fixture);
        foreach (var format in Formats)
        {
            var output = scratch.File($"out.{format}");
            var stats = scratch.File($"stats.{format}");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var (exit, stdout, stderr) = await TestEnvironment.RunAsync(time,
                ["-f", "%M", "-o", stats, Support.Cli.ProgramPath, "convert", "--input", input, "--output", output, "--format", format, "--json"]);
            clock.Stop();
            var peakKiB = long.Parse(File.ReadAllText(stats).Trim().Split('\n')[^1], CultureInfo.InvariantCulture);
            Assert.True(peakKiB < MaxPeakRssKiB, $"{fixture} -> {format}: peak RSS {peakKiB} KiB");
            // The CLI's own start-up is part of the clock: bounded work means well under the limit on a loaded machine too.
            Assert.True(clock.Elapsed < MaxTime, $"{fixture} -> {format}: {clock.Elapsed.TotalSeconds:0.0} s");
            if (exit == 0)
            {
                var result = JsonNode.Parse(stdout)!;
                Assert.True(new FileInfo(output).Length < 1 << 20, $"{fixture} -> {format}: {new FileInfo(output).Length} bytes");
                using var written = VmcoreFile.Open(output);
                Assert.Equal((long)written.Ranges.Aggregate(0UL, (sum, r) => sum + r.Length), (long?)result["guestRamBytes"]);
            }
            else
            {
                var error = JsonNode.Parse(stderr)!["error"]!;
                Assert.NotEqual("UnexpectedError", (string?)error["id"]);
                Assert.Equal(input, (string?)error["target"]);
                Assert.False(File.Exists(output), $"{fixture} -> {format} failed but left {output}");
            }
        }
        Assert.DoesNotContain(Directory.GetFileSystemEntries(scratch.Path), n => Path.GetFileName(n).StartsWith('.'));
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task RepairEndsTypedOrSmallWithinBounds(string fixture)
    {
        using var scratch = new TempDirectory();
        var input = Path.Combine(HostileDirectory, fixture);
        var output = scratch.File("repaired");
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            await VmcoreRepairer.RepairAsync(input, output, cancellationToken: TestContext.Current.CancellationToken);
            using var repaired = VmcoreFile.Open(output);
            Assert.True(new FileInfo(output).Length < 1 << 20, $"{fixture}: repaired file of {new FileInfo(output).Length} bytes");
        }
        catch (VmDebugException e)
        {
            Assert.Equal(input, e.Target);
            Assert.False(File.Exists(output));
        }
        Assert.True(clock.Elapsed < MaxTime, $"{fixture}: repair took {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore < 256L << 20, $"{fixture}: repair allocated too much");
        Assert.DoesNotContain(Directory.GetFileSystemEntries(scratch.Path), n => Path.GetFileName(n).StartsWith('.'));
    }
}
