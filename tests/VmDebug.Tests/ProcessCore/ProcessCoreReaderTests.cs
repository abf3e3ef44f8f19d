using VmDebug.Engine;
using VmDebug.Engine.Guest;
using VmDebug.Engine.ProcessCore;
using VmDebug.Engine.Vmcore;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.ProcessCore;

/// <summary>The core of a QEMU whose guest panicked: makedumpfile and crash read what VmDebug extracts, and Get-QemuCoreDump lists it.</summary>
public sealed class ProcessCoreReaderTests
{
    private const int Markers = 4;

    [Fact]
    public async Task APanickedGuestsCoreOpensInMakedumpfileAndCrashAndIsListed()
    {
        var ct = TestContext.Current.CancellationToken;
        ProcessCoreCapture.RequirePlainCorePattern();
        var image = TestEnvironment.GuestWithDebugSymbols;
        using var scratch = new TempDirectory();
        await using var guest = await QemuGuest.StartAsync(image,
            new GuestLaunchOptions { Markers = Markers, PanicAfterSeconds = 0, ProcessCoreDumps = true }, cancellationToken: ct);
        await ProcessCoreCapture.WaitForGuestAsync(guest, ct);
        var pid = guest.Pid;
        var core = await ProcessCoreCapture.AbortAsync(guest, ct);

        var listed = Assert.Single((await QemuCoreDumpFinder.FindAsync(
            new QemuCoreDumpQuery { Paths = [guest.WorkDirectory], IncludeSystemdCoredump = false }, ct)).Cores);
        Assert.Equal(core, listed.Path);
        Assert.Equal(core, listed.CoreFile);
        Assert.Equal(pid, listed.Pid);
        Assert.Equal(ProcessCoreCapture.Sigabrt, listed.Signal);
        Assert.Equal(VmDebug.QemuCoreSource.File, listed.Source);
        Assert.True(listed.IncludesGuestRam);
        Assert.Null(listed.Problem);
        Assert.Equal("q35", listed.MachineType);
        Assert.Equal(512UL << 20, listed.GuestRamBytes);
        // The whole command line, far past the 80 bytes NT_PRPSINFO keeps.
        Assert.Equal(QemuCoreDumpFinder.JoinCommandLine(guest.Arguments.Prepend(QemuGuest.QemuBinary)), listed.CommandLine);

        foreach (var format in new[] { DumpFormat.Elf, DumpFormat.KdumpZlib })
        {
            var path = scratch.File($"vmcore.{format}");
            var dump = await ProcessCoreDumper.DumpAsync(new ProcessCoreDumpRequest { CoreFile = core, Path = path, Format = format },
                ProcessCoreCapture.NoProgress, ct);
            Assert.Equal(format, dump.Format);
            Assert.Equal(image.Release, dump.KernelRelease);

            var dmesg = await PeerTools.MakedumpfileDmesgAsync(path);
            Assert.Contains($"vmdebug marker {Markers}", dmesg);
            Assert.Contains("Kernel panic - not syncing: sysrq triggered crash", dmesg);

            var log = await PeerTools.CrashLogAsync(image.Vmlinux!, path);
            Assert.Contains("vmdebug marker 1", log);
            Assert.Contains("Kernel panic - not syncing: sysrq triggered crash", log);
            if (format != DumpFormat.Elf)
            {
                File.Delete(path);
            }
        }

        // -DumpLevel through the same page filter as live dumps: the pages makedumpfile -d 31 keeps of the extracted ELF.
        var elf = scratch.File($"vmcore.{DumpFormat.Elf}");
        var theirs = scratch.File("makedumpfile-d31.kdump");
        var run = await TestEnvironment.RunAsync(TestEnvironment.RequireTool("makedumpfile", "makedumpfile"),
            ["-l", "-d", "31", "--message-level", "0", elf, theirs]);
        Assert.True(run.ExitCode == 0, $"makedumpfile -l -d 31: {run.Stdout}{run.Stderr}");
        var filtered = await ProcessCoreDumper.DumpAsync(new ProcessCoreDumpRequest
        {
            CoreFile = core,
            Path = scratch.File("vmcore-d31.kdump"),
            Format = DumpFormat.KdumpLzo,
            DumpLevel = 31,
        }, ProcessCoreCapture.NoProgress, ct);
        Assert.Equal(31, filtered.DumpLevel);
        Assert.True(filtered.Pages!.Free > 0, "no free page was classified");
        using (var mine = Assert.IsType<KdumpReader>(VmcoreFile.Open(filtered.Path)))
        using (var peer = Assert.IsType<KdumpReader>(VmcoreFile.Open(theirs)))
        {
            Assert.Equal(peer.MaxMapnr, mine.MaxMapnr);
            var differ = Enumerable.Range(0, (int)mine.MaxMapnr).Count(pfn => mine.IsDumped((ulong)pfn) != peer.IsDumped((ulong)pfn));
            Assert.True(differ == 0, $"{differ} of {mine.MaxMapnr} pages are kept by one of VmDebug and makedumpfile -d 31 only");
        }
        Assert.Contains("Kernel panic - not syncing: sysrq triggered crash", await PeerTools.MakedumpfileDmesgAsync(filtered.Path));
        await Assert.ThrowsAsync<VmDebugException>(() => ProcessCoreDumper.DumpAsync(new ProcessCoreDumpRequest
        {
            CoreFile = core,
            Path = scratch.File("refused.elf"),
            Format = DumpFormat.Elf,
            DumpLevel = 31,
        }, ProcessCoreCapture.NoProgress, ct));
    }
}
