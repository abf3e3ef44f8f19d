using VmDebug.Engine;
using VmDebug.Engine.Guest;
using VmDebug.Engine.ProcessCore;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.ProcessCore;

/// <summary>Cores that cannot give a vmcore, made for real: each gets its own error, and nothing is left at the destination.</summary>
public sealed class ProcessCoreFaultTests
{
    [Fact]
    public async Task ACoreOfAnotherProgramIsNotTakenForQemu()
    {
        var ct = TestContext.Current.CancellationToken;
        ProcessCoreCapture.RequirePlainCorePattern();
        using var scratch = new TempDirectory();
        var core = await ProcessCoreCapture.AbortProgramAsync(scratch.Path, TestEnvironment.RequireTool("sleep", "coreutils"), "60");

        var error = await AssertDumpFailsAsync(core, scratch);
        Assert.Equal(ProcessCoreException.NotQemu, error.ErrorId);
        Assert.Contains("'sleep'", error.Message);
        Assert.Contains("not of QEMU", error.Message);
        Assert.Empty(await QemuCoreDumpFinder.FindAsync(new QemuCoreDumpQuery { Paths = [scratch.Path], IncludeSystemdCoredump = false }, ct));
    }

    [Fact]
    public async Task ACoreWithoutGuestRamAndATruncatedCoreSayWhy()
    {
        var ct = TestContext.Current.CancellationToken;
        ProcessCoreCapture.RequirePlainCorePattern();
        using var scratch = new TempDirectory();
        await using var guest = await QemuGuest.StartAsync(TestEnvironment.Guest,
            new GuestLaunchOptions { Markers = 1, ProcessCoreDumps = true, DumpGuestCore = false }, cancellationToken: ct);
        await ProcessCoreCapture.WaitForGuestAsync(guest, ct);
        var core = await ProcessCoreCapture.AbortAsync(guest, ct);

        var error = await AssertDumpFailsAsync(core, scratch);
        Assert.Equal(ProcessCoreException.NoGuestRam, error.ErrorId);
        Assert.Contains("dump-guest-core=off", error.Message);
        Assert.Equal([RemedyTerm.Of(RemedyCommand.EnableQemuCoreDump), RemedyTerm.Of(RemedyParameter.IncludeGuestMemory)], error.Remedy!.Terms);
        Assert.DoesNotContain("Enable-QemuCoreDump", error.Message);
        var listed = Assert.Single(await QemuCoreDumpFinder.FindAsync(new QemuCoreDumpQuery { Paths = [core], IncludeSystemdCoredump = false }, ct));
        Assert.False(listed.IncludesGuestRam);

        // A core cut short, as a full disk or a size cap leaves it.
        var truncated = scratch.File("core.truncated");
        await using (var source = File.OpenRead(core))
        await using (var target = File.Create(truncated))
        {
            var half = new byte[source.Length / 2];
            await source.ReadExactlyAsync(half, ct);
            await target.WriteAsync(half, ct);
        }
        error = await AssertDumpFailsAsync(truncated, scratch);
        Assert.Equal(ProcessCoreException.Truncated, error.ErrorId);
        Assert.Contains("truncated", error.Message);
        listed = Assert.Single(await QemuCoreDumpFinder.FindAsync(new QemuCoreDumpQuery { Paths = [truncated], IncludeSystemdCoredump = false }, ct));
        Assert.StartsWith("truncated", listed.Problem);
    }

    [Fact]
    public async Task AnUnknownMachineTypeAsksForTheLayoutAndTheLayoutIsTaken()
    {
        var ct = TestContext.Current.CancellationToken;
        ProcessCoreCapture.RequirePlainCorePattern();
        using var scratch = new TempDirectory();
        // isapc: a real x86 machine type with no layout rule in VmDebug. Its firmware runs (and writes RAM, which the
        // kernel then dumps) and stops at "no bootable device".
        var core = await ProcessCoreCapture.AbortProgramAsync(scratch.Path, TestEnvironment.RequireTool(QemuGuest.QemuBinary, "qemu-system-x86"),
            "-machine", "isapc,accel=tcg,dump-guest-core=on", "-m", "64", "-nodefaults", "-display", "none");

        var error = await AssertDumpFailsAsync(core, scratch);
        Assert.Equal(ProcessCoreException.MachineUnknown, error.ErrorId);
        Assert.Contains("'isapc'", error.Message);
        Assert.Equal([RemedyTerm.Of(RemedyParameter.GuestMemoryLayout)], error.Remedy!.Terms);
        Assert.DoesNotContain("-GuestMemoryLayout", error.Message);

        // isapc keeps all of its 64 MiB below 4 GiB, as pc does at this size; explicit ranges say the same.
        foreach (var layout in new[] { "pc", "0x0-0x3ffffff@0" })
        {
            var output = scratch.File($"vmcore-{layout.Length}");
            var dump = await ProcessCoreDumper.DumpAsync(new ProcessCoreDumpRequest { CoreFile = core, Path = output, GuestMemoryLayout = layout },
                ProcessCoreCapture.NoProgress, ct);
            Assert.Equal(64UL << 20, dump.GuestRamBytes);
            // Only firmware ran in the guest, so there is no kernel and no VMCOREINFO: a warning, not a failure.
            Assert.Contains(dump.Warnings, w => w.Contains("VMCOREINFO", StringComparison.Ordinal));
        }

        error = await AssertDumpFailsAsync(core, scratch, "0x0-0x1fffffff@0");
        Assert.Equal(ProcessCoreException.LayoutAmbiguous, error.ErrorId);
        Assert.Contains("512 MiB", error.Message);
        error = await AssertDumpFailsAsync(core, scratch, "microvm");
        Assert.Equal(ProcessCoreException.LayoutInvalid, error.ErrorId);
    }

    private static async Task<VmDebugException> AssertDumpFailsAsync(string core, TempDirectory scratch, string? layout = null)
    {
        var output = scratch.File("out.vmcore");
        var before = Directory.GetFiles(scratch.Path).ToHashSet();
        var error = await Assert.ThrowsAsync<ProcessCoreException>(() => ProcessCoreDumper.DumpAsync(
            new ProcessCoreDumpRequest { CoreFile = core, Path = output, GuestMemoryLayout = layout }, ProcessCoreCapture.NoProgress,
            TestContext.Current.CancellationToken));
        Assert.Equal(core, error.Target);
        Assert.Equal(before, Directory.GetFiles(scratch.Path).ToHashSet());
        return error;
    }
}
