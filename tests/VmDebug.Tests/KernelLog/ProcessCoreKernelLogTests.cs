using VmDebug.Engine.Guest;
using VmDebug.Engine.GuestKernel;
using VmDebug.Engine.KernelLog;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.KernelLog;

/// <summary>A panicked guest's QEMU process core: the log read straight from it equals makedumpfile's on the vmcore extracted from it.</summary>
public sealed class ProcessCoreKernelLogTests
{
    [Fact]
    public async Task LogFromAProcessCoreEqualsMakedumpfilesOnTheExtractedVmcore()
    {
        ProcessCoreCapture.RequirePlainCorePattern();
        var ct = TestContext.Current.CancellationToken;
        var guest = await QemuGuest.StartAsync(TestEnvironment.Guest,
            new GuestLaunchOptions { MemoryMiB = 256, Markers = 6, PanicAfterSeconds = 0, ProcessCoreDumps = true }, cancellationToken: ct);
        try
        {
            await ProcessCoreCapture.WaitForGuestAsync(guest, ct);
            var core = await ProcessCoreCapture.AbortAsync(guest, ct);
            var extracted = Path.Combine(guest.WorkDirectory, "extracted.elf");
            await VmDebug.Engine.ProcessCore.ProcessCoreDumper.DumpAsync(
                new VmDebug.Engine.ProcessCore.ProcessCoreDumpRequest { CoreFile = core, Path = extracted, Format = DumpFormat.Elf },
                new VmDebug.Engine.CallbackProgress<VmDebug.Engine.OperationProgress>(_ => { }), ct);
            var expected = await PeerTools.MakedumpfileDmesgAsync(extracted);

            var fromCore = await GuestKernelLogReader.ReadAsync(new GuestKernelTarget { CoreFile = core }, ct);
            Assert.Equal(expected, fromCore.ToMakedumpfileText());
            Assert.Contains("Kernel panic - not syncing", expected);
            Assert.All(fromCore.ToKmsgRecords(), r => Assert.Equal(core, r.Guest));
            var fromExtracted = await GuestKernelLogReader.ReadAsync(new GuestKernelTarget { Path = extracted }, ct);
            Assert.Equal(expected, fromExtracted.ToMakedumpfileText());
        }
        finally
        {
            await guest.DisposeAsync();
        }
    }
}
