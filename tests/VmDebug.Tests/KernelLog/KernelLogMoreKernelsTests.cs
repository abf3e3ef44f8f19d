using VmDebug.Engine.GuestKernel;
using VmDebug.Engine.KernelLog;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.KernelLog;

/// <summary>
/// Debian's 6.12 cloud kernel under 5-level paging: text equal to makedumpfile's; symbols equal to the -dbg vmlinux's
/// own symbol table shifted by KERNELOFFSET (crash 8.0.2 here cannot open a 6.12 dump).
/// </summary>
public sealed class Kernel612La57Tests(Kernel612La57Fixture fixture) : IClassFixture<Kernel612La57Fixture>
{
    [Fact]
    public async Task FiveLevelPagingTextAndSymbolsMatchThePeerTools()
    {
        fixture.SkipIfUnavailable();
        var ct = TestContext.Current.CancellationToken;
        var expected = await PeerTools.MakedumpfileDmesgAsync(fixture.RepairedElf);
        foreach (var dump in new[] { fixture.QemuElf, fixture.QemuFlattened })
        {
            var log = await GuestKernelLogReader.ReadAsync(new GuestKernelTarget { Path = dump }, ct);
            Assert.True(expected == log.ToMakedumpfileText(), $"{Path.GetFileName(dump)}: text differs from makedumpfile's");
        }

        var crash = await GuestCrashAnalyzer.ReadAsync(new GuestKernelTarget { Path = fixture.QemuElf }, ct);
        Assert.Equal(5, crash.PagingLevels);
        Assert.StartsWith("6.12.", crash.KernelRelease);
        Assert.Equal("sysrq triggered crash", crash.PanicMessage);
        Assert.Equal("init", crash.Comm);
        Assert.Equal(1, crash.Pid);
        Assert.Contains($"PID: {crash.Pid} Comm: {crash.Comm} ", expected); // 6.12 prints "CPU: n UID: 0 PID: 1 Comm: init"
        Assert.True(crash.KallsymsAvailable);
        // The peer for symbols is crash's `sym`, which the 6.1 tests use; Debian 12's crash 8.0.2 cannot load
        // a 6.12 vmlinux, so here the independent reader is that vmlinux's own symbol table.
        TestContext.Current.SendDiagnosticMessage("6.12 symbols checked against `nm -n` of the -dbg vmlinux shifted by KERNELOFFSET, "
            + "not `crash sym`: crash 8.0.2 (Debian 12) cannot load a 6.12 vmlinux");
        await KernelLogDumpTests.AssertSymbolsEqualVmlinuxAsync(fixture.Image.Vmlinux!, crash);
    }
}

/// <summary>A guest without the vmcoreinfo device whose ring wrapped: VMCOREINFO is found in RAM and the first sequence is above 0.</summary>
public sealed class WrappedRingWithoutVmcoreInfoTests(WrappedNoVmcoreInfoFixture fixture) : IClassFixture<WrappedNoVmcoreInfoFixture>
{
    [Fact]
    public async Task VmcoreInfoFoundInRamGivesMakedumpfilesTextOfTheWrappedRing()
    {
        fixture.SkipIfUnavailable();
        var ct = TestContext.Current.CancellationToken;
        using (var session = await GuestKernelSessions.OpenAsync(new GuestKernelTarget { Path = fixture.RepairedElf }, ct))
        {
            Assert.NotNull(session.VmcoreInfoFoundAt);
            Assert.Equal(fixture.Image.Release, session.VmcoreInfo.OsRelease);
            // makedumpfile is handed the VMCOREINFO VmDebug found (-i), since the dump itself has none.
            var vmcoreinfo = Path.Combine(fixture.Directory, "vmcoreinfo.txt");
            await File.WriteAllTextAsync(vmcoreinfo, session.VmcoreInfo.Text, ct);
            var makedumpfile = TestEnvironment.RequireTool("makedumpfile", "makedumpfile");
            var output = Path.Combine(fixture.Directory, "wrapped.dmesg");
            var (exit, stdout, stderr) = await TestEnvironment.RunAsync(makedumpfile, ["--dump-dmesg", "-i", vmcoreinfo, fixture.RepairedElf, output]);
            Assert.True(exit == 0, $"makedumpfile -i failed ({exit}): {stdout}{stderr}");
            var expected = await File.ReadAllTextAsync(output, ct);

            var log = GuestKernelLog.Read(session);
            Assert.Contains(log.Warnings, w => w.Contains("no VMCOREINFO note", StringComparison.Ordinal));
            Assert.Equal(expected, log.ToMakedumpfileText());
            var records = log.ToKmsgRecords();
            Assert.True(records[0].Sequence > 0, $"the ring did not wrap: first sequence {records[0].Sequence}");
            Assert.DoesNotContain(records, r => r.Message == "vmdebug marker 1");
            Assert.Contains(records, r => r.Message == $"vmdebug marker {WrappedNoVmcoreInfoFixture.Markers}");
            Assert.Contains(records, r => r.Message.StartsWith("Kernel panic - not syncing:", StringComparison.Ordinal));
            Assert.Equal(Enumerable.Range(0, records.Count).Select(i => records[0].Sequence + (ulong)i), records.Select(r => r.Sequence));
        }

        // The CLI finds it the same way, on QEMU's raw flattened output too.
        var (code, text, errors) = await Support.Cli.RunAsync("log", "--input", fixture.QemuFlattened, "--tail", "1");
        Assert.True(code == 0, errors);
        Assert.Contains("Kernel panic", File.ReadAllText(Path.Combine(fixture.Directory, "wrapped.dmesg")));
        Assert.Contains("no VMCOREINFO note", errors);
        Assert.Single(text.TrimEnd('\n').Split('\n'));
    }
}
