using System.Diagnostics;
using VmDebug.Engine.Guest;
using VmDebug.Engine.ProcessCore;
using VmDebug.Engine.Vmcore;
using VmDebug.Tests.Dump;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.ProcessCore;

/// <summary>
/// Real QEMU guests, paused, dumped over QMP, then aborted with dump-guest-core=on: the vmcore VmDebug extracts from
/// the process core must hold the same guest-physical pages as QEMU's own dump of the same memory.
/// </summary>
public sealed class ProcessCoreExtractionTests
{
    // Legacy VGA/ROM window below 1 MiB: RAM exists there in the RAM block, the guest sees devices instead.
    private const ulong LegacyHoleFirstPfn = 0xa0, LegacyHoleEndPfn = 0x100;
    private const long BiosPages = (256 << 10) / 4096;

    /// <summary>
    /// Each axis at least once: both machine types, 512 MiB and a size with RAM above 4 GiB on each (3 GiB q35, 4 GiB pc),
    /// anonymous, memfd and file-backed RAM; RAM on hugetlbfs is the test below. The big guests are compared with QEMU's
    /// kdump-zlib dump (same pages, 50x smaller than its ELF, which QEMU writes without holes).
    /// </summary>
    public static TheoryData<string, int, GuestMemoryBackend, DumpFormat> Matrix => new()
    {
        { "q35", 512, GuestMemoryBackend.Anonymous, DumpFormat.Elf },
        { "pc", 512, GuestMemoryBackend.Memfd, DumpFormat.Elf },
        { "q35", 256, GuestMemoryBackend.File, DumpFormat.Elf },
        { "q35", 3072, GuestMemoryBackend.Memfd, DumpFormat.KdumpZlib },
        { "pc", 4096, GuestMemoryBackend.Anonymous, DumpFormat.KdumpZlib },
    };

    [Theory]
    [MemberData(nameof(Matrix))]
    public Task ExtractedGuestRamEqualsTheQmpDumpOfTheSamePausedGuest(string machine, int memoryMiB, GuestMemoryBackend backend, DumpFormat referenceFormat) =>
        ExtractAndCompareAsync(machine, memoryMiB, backend, referenceFormat, memoryPath: null);

    /// <summary>
    /// QEMU's -mem-path on a hugetlbfs mount (libvirt's &lt;hugepages/&gt;): RAM is a private hugetlb mapping, which the
    /// kernel's default coredump_filter (0x33, bit 5) dumps. The mount is private to the test, its pages reserved for it.
    /// </summary>
    [Fact]
    public async Task HugeTlbFsRamEqualsTheQmpDumpOfTheSamePausedGuest()
    {
        const int MemoryMiB = 256;
        using var hugePages = await HugePageMount.CreateAsync(MemoryMiB);
        await ExtractAndCompareAsync("q35", MemoryMiB, GuestMemoryBackend.HugeTlbFs, DumpFormat.Elf, hugePages.Path);
    }

    private static async Task ExtractAndCompareAsync(string machine, int memoryMiB, GuestMemoryBackend backend, DumpFormat referenceFormat, string? memoryPath)
    {
        var ct = TestContext.Current.CancellationToken;
        ProcessCoreCapture.RequirePlainCorePattern();
        var image = TestEnvironment.Guest;
        using var scratch = new TempDirectory();
        await using var guest = await QemuGuest.StartAsync(image, new GuestLaunchOptions
        {
            MachineType = machine,
            MemoryMiB = memoryMiB,
            MemoryBackend = backend,
            MemoryPath = memoryPath,
            Markers = 3,
            ProcessCoreDumps = true,
        }, cancellationToken: ct);
        await ProcessCoreCapture.WaitForGuestAsync(guest, ct);
        await ProcessCoreCapture.PauseAsync(guest, ct);
        var reference = await ProcessCoreCapture.QmpDumpAsync(guest, scratch.File("qmp.vmcore"), referenceFormat, ct);
        var core = await ProcessCoreCapture.AbortAsync(guest, ct);

        var clock = Stopwatch.StartNew();
        var dump = await ProcessCoreDumper.DumpAsync(new ProcessCoreDumpRequest { CoreFile = core, Path = scratch.File("core.vmcore") },
            ProcessCoreCapture.NoProgress, ct);
        var extraction = clock.Elapsed;
        File.Delete(core);

        Assert.Equal(DumpSource.QemuProcessCore, dump.Source);
        Assert.Equal(core, dump.Target);
        Assert.Equal(DumpFormat.Elf, dump.Format);
        Assert.Equal((ulong)memoryMiB << 20, dump.GuestRamBytes);
        Assert.Equal(image.Release, dump.KernelRelease);
        Assert.Equal(reference.PhysBase, dump.PhysBase);
        Assert.Empty(dump.Warnings);
        QmpDumpTests.AssertPrivateFile(dump.Path);

        using var expected = VmcoreFile.Open(reference.Path);
        using var actual = VmcoreFile.Open(dump.Path);
        Assert.Equal(VmcoreInfo.FromNotes(expected.Notes)!.Text.TrimEnd('\0'), actual.VmcoreInfo!.Text.TrimEnd('\0'));
        if (memoryMiB >= 3072)
        {
            // RAM continues at 4 GiB (the BIOS ROM just below it makes one range of both).
            Assert.Contains(actual.Ranges, r => r.Start < 4UL << 30 && r.End > 4UL << 30);
        }
        var (compared, mismatches, onlyInReference, onlyExtracted) = ProcessCoreCapture.ComparePages(expected, actual);
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {compared} pages differ, first at pfn 0x{mismatches.FirstOrDefault():x}");
        Assert.Empty(onlyInReference);
        Assert.All(onlyExtracted, pfn => Assert.InRange(pfn, LegacyHoleFirstPfn, LegacyHoleEndPfn - 1));
        // Even with -nodefaults there is the BIOS ROM (SeaBIOS, 256 KiB below 4 GiB), in QEMU's dump and in ours.
        Assert.Equal(((long)memoryMiB << 20) / 4096 - onlyExtracted.Count + BiosPages, compared);
        TestContext.Current.SendDiagnosticMessage($"{machine} {memoryMiB} MiB {backend}: extracted in {extraction.TotalSeconds:0.00} s, {compared} pages equal");
    }

}
