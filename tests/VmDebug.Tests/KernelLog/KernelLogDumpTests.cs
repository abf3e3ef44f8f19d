using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using VmDebug.Engine.Compression;
using VmDebug.Engine.GuestKernel;
using VmDebug.Engine.KernelLog;
using VmDebug.Engine.Vmcore;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.KernelLog;

/// <summary>
/// The kernel log and crash summary of a real panicked 6.1 guest, read by VmDebug from every container and checked
/// against makedumpfile --dump-dmesg (text, byte for byte) and crash with the -dbg vmlinux (symbols).
/// </summary>
[Collection(Kernel61Collection.Name)]
public sealed partial class KernelLogDumpTests(Kernel61Fixture fixture)
{
    [Fact]
    public async Task TextIsByteIdenticalToMakedumpfileOnElfKdumpCodecsAndFlattenedDumps()
    {
        fixture.SkipIfUnavailable();
        var ct = TestContext.Current.CancellationToken;
        var expected = await PeerTools.MakedumpfileDmesgAsync(fixture.RepairedElf);
        Assert.Contains("Kernel panic - not syncing: sysrq triggered crash", expected);
        Assert.Contains($"vmdebug marker {Kernel61Fixture.Markers}\n", expected);

        var dumps = new List<string> { fixture.QemuElf, fixture.QemuFlattened, fixture.RepairedElf };
        using (var source = VmcoreFile.Open(fixture.RepairedElf))
        {
            foreach (var compression in new[] { PageCompression.Zlib, PageCompression.Lzo, PageCompression.Snappy, PageCompression.Zstd })
            {
                var path = Path.Combine(fixture.Directory, $"ours.{compression}.kdump");
                if (!File.Exists(path))
                {
                    await using var output = File.Create(path);
                    await KdumpWriter.WriteAsync(source, output, new KdumpWriteOptions { Compression = compression }, cancellationToken: ct);
                }
                dumps.Add(path);
            }
        }
        foreach (var dump in dumps)
        {
            var log = await GuestKernelLogReader.ReadAsync(new GuestKernelTarget { Path = dump }, ct);
            Assert.Empty(log.Warnings);
            Assert.True(expected == log.ToMakedumpfileText(), $"{Path.GetFileName(dump)}: text differs from makedumpfile's");
        }
        // makedumpfile reads zlib and lzo kdumps itself (Debian's build lacks snappy and zstd): its text there is the same.
        Assert.Equal(expected, await PeerTools.MakedumpfileDmesgAsync(Path.Combine(fixture.Directory, "ours.Lzo.kdump")));

        // The CLI writes exactly those bytes, on the raw QEMU output makedumpfile itself cannot open.
        var (exit, stdout, stderr) = await Support.Cli.RunAsync("log", "--input", fixture.QemuElf);
        Assert.True(exit == 0, stderr);
        Assert.Equal(expected, stdout);
    }

    [Fact]
    public async Task TwoLogsWrittenIntoOneRedirectedFileFollowEachOther()
    {
        // vmdebug log writes stdout with write(2), which moves the offset the shell's redirect shares between the two
        // runs; a stream keeping an offset of its own (FileStream) would make the second overwrite the first.
        fixture.SkipIfUnavailable();
        var lastTwo = await Support.Cli.RunAsync("log", "--input", fixture.RepairedElf, "--tail", "2");
        var last = await Support.Cli.RunAsync("log", "--input", fixture.RepairedElf, "--tail", "1");
        Assert.True(lastTwo.ExitCode == 0 && last.ExitCode == 0, lastTwo.Stderr + last.Stderr);
        Assert.EndsWith(last.Stdout, lastTwo.Stdout);
        using var scratch = new TempDirectory();
        var output = Path.Combine(scratch.Path, "both.txt");
        var (exit, _, stderr) = await TestEnvironment.RunAsync("/bin/sh",
            ["-c", "{ \"$1\" log --input \"$2\" --tail 2; \"$1\" log --input \"$2\" --tail 1; } > \"$3\"", "sh", Support.Cli.ProgramPath, fixture.RepairedElf, output]);
        Assert.True(exit == 0, stderr);
        Assert.Equal(lastTwo.Stdout + last.Stdout, await File.ReadAllTextAsync(output, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task RecordsAreKmsgRecordsNamedAfterTheDumpThatMergeWithAStreamBySequence()
    {
        fixture.SkipIfUnavailable();
        var ct = TestContext.Current.CancellationToken;
        var log = await GuestKernelLogReader.ReadAsync(new GuestKernelTarget { Path = fixture.RepairedElf }, ct);
        var records = log.ToKmsgRecords();
        Assert.All(records, r => Assert.Equal(fixture.RepairedElf, r.Guest));
        Assert.Equal(Enumerable.Range(0, records.Count).Select(i => (ulong)i), records.Select(r => r.Sequence));
        var marker = Assert.Single(records, r => r.Message == "vmdebug marker 3");
        Assert.Equal(KmsgLevel.Notice, marker.Level);
        Assert.Equal(KmsgFacility.User, marker.Facility); // written to /dev/kmsg by init: facility 1
        Assert.Equal(KmsgLevel.Emerg, Assert.Single(records, r => r.Message.StartsWith("Kernel panic", StringComparison.Ordinal)).Level);

        // A "stream" that saw the first records, merged with the dump's, is the timeline once each.
        var streamed = records.Take(10).ToList();
        var merged = streamed.Concat(records).GroupBy(r => r.Sequence).Select(g => g.First()).OrderBy(r => r.Sequence).ToList();
        Assert.Equal(records.Select(r => r.Sequence), merged.Select(r => r.Sequence));

        var tail = log.ToKmsgRecords(tail: 3);
        Assert.Equal(records.TakeLast(3).Select(r => r.Sequence), tail.Select(r => r.Sequence));
        Assert.All(log.ToKmsgRecords(minimumLevel: KmsgLevel.Err), r => Assert.True(r.Level <= KmsgLevel.Err));
        Assert.Contains(log.ToKmsgRecords(minimumLevel: KmsgLevel.Err), r => r.Message.StartsWith("Kernel panic", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CrashSummaryMatchesTheLogAndItsSymbolsEqualTheVmlinuxSymbolTable()
    {
        fixture.SkipIfUnavailable();
        var ct = TestContext.Current.CancellationToken;
        var crash = await GuestCrashAnalyzer.ReadAsync(new GuestKernelTarget { Path = fixture.QemuFlattened }, ct);
        var text = await PeerTools.MakedumpfileDmesgAsync(fixture.RepairedElf);

        Assert.Equal("sysrq triggered crash", crash.PanicMessage);
        Assert.Equal("init", crash.Comm);
        Assert.Equal(1, crash.Pid);
        Assert.Contains($"CPU: {crash.Cpu} PID: {crash.Pid} Comm: {crash.Comm} ", text);
        Assert.Contains($"Kernel panic - not syncing: {crash.PanicMessage}\n", text);
        Assert.Equal("Not tainted", crash.Taint);
        Assert.Equal(fixture.Image.Release, crash.KernelRelease);
        Assert.True(crash.BuildIdValid);
        Assert.Equal(4, crash.PagingLevels);
        Assert.True(crash.KallsymsAvailable);
        Assert.Equal(2, crash.Vcpus.Count);
        Assert.Contains(crash.CallTrace, f => f.Symbol == "panic");
        Assert.Contains(crash.CallTrace, f => f.Symbol == "sysrq_handle_crash");
        Assert.NotNull(crash.Uptime);
        // A kernel-half RIP without a symbol is a module's (pvpanic's, after the panic): the result says it is unresolved.
        Assert.All(crash.Vcpus.Where(v => v.Rip >= 0xffff800000000000 && v.RipSymbol is null),
            v => Assert.Contains(crash.Warnings, w => w.Contains($"vCPU {v.Cpu} RIP 0x{v.Rip:x}", StringComparison.Ordinal)));

        await AssertSymbolsEqualVmlinuxAsync(fixture.Image.Vmlinux!, crash);
    }

    [Fact]
    public async Task VcpuAndCallTraceSymbolsEqualCrashsSym()
    {
        fixture.SkipIfUnavailable();
        var crash = await GuestCrashAnalyzer.ReadAsync(new GuestKernelTarget { Path = fixture.RepairedElf }, TestContext.Current.CancellationToken);
        await AssertSymbolsEqualCrashAsync(fixture.Image.Vmlinux!, fixture.RepairedElf, crash);
    }

    /// <summary>
    /// Every resolved address against the -dbg vmlinux's own symbol table (nm), shifted by KERNELOFFSET: the symbol at
    /// or below it (any of its aliases) and the offset from it.
    /// </summary>
    internal static async Task AssertSymbolsEqualVmlinuxAsync(string vmlinux, GuestCrashInfo crash)
    {
        Assert.True(crash.KallsymsAvailable);
        var symbols = await PeerTools.NmSymbolsAsync(vmlinux);
        var addresses = symbols.Select(s => s.Address).ToArray();
        var resolved = ResolvedAddresses(crash);
        Assert.True(resolved.Count > 5, $"only {resolved.Count} addresses were resolved");
        foreach (var (address, name, offset) in resolved)
        {
            var linked = address - crash.KernelOffset!.Value;
            var at = Array.FindLastIndex(addresses, a => a <= linked);
            Assert.True(at >= 0, $"0x{address:x} is below every vmlinux symbol");
            var start = addresses[at];
            var aliases = symbols.Where(s => s.Address == start).Select(s => s.Name).ToList();
            Assert.True(aliases.Contains(name) && linked - start == offset,
                $"0x{address:x}: vmlinux has {string.Join("/", aliases)}+{linked - start}, VmDebug {name}+{offset}");
        }
    }

    /// <summary>Every vCPU RIP in kernel text and every resolved frame, with the symbol and offset VmDebug gives it.</summary>
    internal static List<(ulong Address, string Name, ulong Offset)> ResolvedAddresses(GuestCrashInfo crash)
    {
        var resolved = new List<(ulong Address, string Name, ulong Offset)>();
        foreach (var vcpu in crash.Vcpus.Where(v => v.RipSymbol is not null))
        {
            var match = SymbolText().Match(vcpu.RipSymbol!);
            resolved.Add((vcpu.Rip, match.Groups[1].Value, ulong.Parse(match.Groups[2].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
        }
        Assert.NotEmpty(resolved); // at least the idle vCPU sits in kernel text
        foreach (var frame in crash.CallTrace.Where(f => f.Module is null))
        {
            Assert.True(frame.Address is not null, $"call-trace frame {frame} was not resolved through kallsyms");
            // The kernel prints call-trace frames with %pB: the return address minus one is looked up and the offset
            // printed one more, so a call ending its function prints "f+0x30/0x30" for the next symbol's first byte.
            // The byte before the return address is the one every reader must name the same.
            Assert.True(frame.Offset >= 1, $"call-trace frame {frame} has offset 0, which %pB never prints");
            resolved.Add((frame.Address!.Value - 1, frame.Symbol, frame.Offset - 1));
        }
        return resolved;
    }

    /// <summary>One crash run for every resolved address: `sym ADDRESS` names the same symbol+offset.</summary>
    internal static async Task AssertSymbolsEqualCrashAsync(string vmlinux, string dump, GuestCrashInfo crash)
    {
        var expected = ResolvedAddresses(crash);
        var commands = new StringBuilder();
        foreach (var (address, _, _) in expected)
        {
            commands.Append(CultureInfo.InvariantCulture, $"sym {address:x}\n");
        }
        var stdout = await PeerTools.CrashCommandsAsync(vmlinux, dump, commands.ToString());
        foreach (var (address, name, offset) in expected)
        {
            // crash prints "ffffffff96fcd049 (T) panic+280 kernel/panic.c: 357": the offset in decimal, none at offset 0.
            var line = stdout.Split('\n').FirstOrDefault(l => l.StartsWith($"{address:x} ", StringComparison.Ordinal));
            Assert.True(line is not null, $"crash printed nothing for sym {address:x}: {stdout}");
            var want = offset == 0 ? name : $"{name}+{offset}";
            Assert.True(line.Split(' ')[2] == want, $"crash: '{line}', VmDebug: {want}");
        }
    }

    [GeneratedRegex(@"^(.+)\+0x([0-9a-f]+)/0x[0-9a-f]+$")]
    private static partial Regex SymbolText();
}
