using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using VmDebug.Engine.Guest;
using VmDebug.Engine.Vmcore;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.ProcessCore;

/// <summary>
/// Guests with QEMU's default devices (std VGA, SeaBIOS), paused and dumped over QMP, then aborted: every
/// guest-physical page QEMU's own dump holds (guest RAM, video RAM, the BIOS ROM) must be in the vmcore extracted
/// from the process core, byte for byte. The cores are also compressed as systemd-coredump stores them (zstd and lz4
/// frames for the 3 GiB guest; xz, whose compressor takes minutes on 4 GB, for the 1 GiB one): each must give the plain
/// core's vmcore exactly, within 400 MB of peak RSS.
/// </summary>
public sealed class DefaultDeviceCoreTests
{
    private const ulong FourGiB = 4UL << 30;
    private const long MaxPeakRssBytes = 400L << 20;

    private static readonly Dictionary<string, (string Tool, string Package, string[] Arguments)> Compressors = new()
    {
        ["zst"] = ("zstd", "zstd", ["-q", "-1", "-T2", "-c"]),
        ["lz4"] = ("lz4", "lz4", ["-q", "-1", "-c"]),
        ["xz"] = ("xz", "xz-utils", ["-q", "-0", "-T2", "-c"]),
    };

    [Theory]
    [InlineData("q35", 1024, "xz")]
    [InlineData("pc", 1024, "")]
    [InlineData("q35", 3072, "zst,lz4")]
    public async Task EveryPageOfQemusDumpIsInTheVmcoreAndCompressedCoresGiveTheSame(string machine, int memoryMiB, string compressions)
    {
        var ct = TestContext.Current.CancellationToken;
        var time = TestEnvironment.RequireTool("time", "time");
        var extensions = compressions.Split(',', StringSplitOptions.RemoveEmptyEntries);
        var tools = extensions.Select(e => TestEnvironment.RequireTool(Compressors[e].Tool, Compressors[e].Package)).ToArray();
        using var scratch = new TempDirectory();
        var (core, reference) = await CaptureAsync(machine, memoryMiB, scratch, ct);

        var plain = await ExtractWithCliAsync(time, core, scratch.File("plain.vmcore"));
        AssertEveryReferencePage(reference, plain.Dump, memoryMiB);
        var expected = Sha256(plain.Dump.Path);
        File.Delete(reference);
        TestContext.Current.SendDiagnosticMessage($"plain core: {plain.Seconds:0.00} s, peak RSS {plain.PeakRss >> 20} MiB");

        for (var i = 0; i < extensions.Length; i++)
        {
            var compressed = $"{core}.{extensions[i]}";
            var (exit, _, stderr) = await TestEnvironment.RunAsync("/bin/sh",
                ["-c", $"exec \"$0\" \"$@\" < '{core}' > '{compressed}'", tools[i], .. Compressors[extensions[i]].Arguments], timeout: TimeSpan.FromMinutes(5));
            Assert.True(exit == 0, $"{tools[i]} failed: {stderr}");
            var result = await ExtractWithCliAsync(time, compressed, scratch.File($"{extensions[i]}.vmcore"));
            File.Delete(compressed);
            Assert.Equal(expected, Sha256(result.Dump.Path));
            Assert.True(result.PeakRss < MaxPeakRssBytes, $"{extensions[i]}: peak RSS {result.PeakRss >> 20} MiB, more than {MaxPeakRssBytes >> 20} MiB");
            Assert.Equal(compressed, result.Dump.Target);
            Assert.Empty(result.Dump.Warnings);
            File.Delete(result.Dump.Path);
            TestContext.Current.SendDiagnosticMessage($"{extensions[i]}: {result.Seconds:0.00} s, peak RSS {result.PeakRss >> 20} MiB");
        }
        File.Delete(core);
    }

    /// <summary>Boots a default-device guest, pauses it, dumps it over QMP (kdump-zlib: small, holes excluded) and aborts it.</summary>
    private static async Task<(string Core, string Reference)> CaptureAsync(string machine, int memoryMiB, TempDirectory scratch, CancellationToken ct)
    {
        ProcessCoreCapture.RequirePlainCorePattern();
        await using var guest = await QemuGuest.StartAsync(TestEnvironment.Guest, new GuestLaunchOptions
        {
            MachineType = machine,
            MemoryMiB = memoryMiB,
            DefaultDevices = true,
            Markers = 3,
            ProcessCoreDumps = true,
        }, workDirectory: Directory.CreateDirectory(scratch.File("guest")).FullName, cancellationToken: ct);
        guest.KeepWorkDirectory = true;
        await ProcessCoreCapture.WaitForGuestAsync(guest, ct);
        await ProcessCoreCapture.PauseAsync(guest, ct);
        var reference = await ProcessCoreCapture.QmpDumpAsync(guest, scratch.File("qmp.vmcore"), DumpFormat.KdumpZlib, ct);
        return (await ProcessCoreCapture.AbortAsync(guest, ct), reference.Path);
    }

    private static void AssertEveryReferencePage(string referencePath, GuestMemoryDump dump, int memoryMiB)
    {
        Assert.Equal((ulong)memoryMiB << 20, dump.GuestRamBytes);
        Assert.Empty(dump.Warnings);
        using var expected = VmcoreFile.Open(referencePath);
        using var actual = VmcoreFile.Open(dump.Path);
        // QEMU's dump holds the video RAM at its BAR and the BIOS ROM at the top of 4 GiB besides RAM.
        Assert.Contains(expected.Ranges, r => r.Start >= (ulong)memoryMiB << 20 && r.End <= FourGiB);
        var (compared, mismatches, onlyInReference, _) = ProcessCoreCapture.ComparePages(expected, actual);
        Assert.True(onlyInReference.Count == 0,
            $"{onlyInReference.Count} pages of QEMU's dump are missing, first at 0x{onlyInReference.FirstOrDefault() * 4096:x}");
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {compared} pages differ, first at 0x{mismatches.FirstOrDefault() * 4096:x}");
        Assert.True(actual.Ranges.Any(r => r.Start == 0xfffc0000), "the BIOS ROM is not at 0xfffc0000");
        TestContext.Current.SendDiagnosticMessage($"{memoryMiB} MiB: {compared} pages equal, ranges {string.Join(", ", actual.Ranges.Select(r => $"0x{r.Start:x}+0x{r.Length:x}"))}");
    }

    private sealed record Extraction(GuestMemoryDump Dump, long PeakRss, double Seconds);

    /// <summary>vmdebug dump --core-file under /usr/bin/time, for its peak RSS.</summary>
    private static async Task<Extraction> ExtractWithCliAsync(string time, string core, string output)
    {
        var rss = output + ".rss";
        var clock = Stopwatch.StartNew();
        var (exit, stdout, stderr) = await TestEnvironment.RunAsync(time, ["-f", "%M", "-o", rss, Support.Cli.ProgramPath,
            "dump", "--core-file", core, "--output", output, "--json"], timeout: TimeSpan.FromMinutes(5));
        var seconds = clock.Elapsed.TotalSeconds;
        Assert.True(exit == 0, $"vmdebug dump --core-file {core} failed ({exit}): {stdout}{stderr}");
        var result = JsonNode.Parse(stdout)!;
        var dump = new GuestMemoryDump
        {
            Path = (string)result["path"]!,
            Format = DumpFormat.Elf,
            Source = DumpSource.QemuProcessCore,
            Target = (string)result["target"]!,
            SizeBytes = (long)result["sizeBytes"]!,
            GuestRamBytes = (ulong)result["guestRamBytes"]!,
            Duration = TimeSpan.FromSeconds(seconds),
            Repairs = [],
            Warnings = result["warnings"]!.AsArray().Select(w => (string)w!).ToList(),
        };
        var peakKiB = long.Parse(File.ReadAllLines(rss).Last(l => l.Length > 0).Trim(), CultureInfo.InvariantCulture);
        return new Extraction(dump, peakKiB * 1024, seconds);
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream));
    }
}
