using VmDebug.Engine;
using VmDebug.Engine.Dump;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Dump;

/// <summary>Convert-Vmcore on a real panicked guest's dump, read back by the peer tools that support each codec.</summary>
public sealed class ConvertTests(PanickedGuestFixture fixture) : IClassFixture<PanickedGuestFixture>
{
    [Fact]
    public async Task AnElfDumpConvertsToEveryKdumpCodecAndThePeersReadIt()
    {
        var ct = TestContext.Current.CancellationToken;
        var image = TestEnvironment.GuestWithDebugSymbols;
        using var directory = new TempDirectory();
        var progress = new CallbackProgress<OperationProgress>(_ => { });
        var elf = await GuestMemoryDumper.DumpAsync(
            new DumpRequest { QmpSocket = fixture.Guest.QmpSocketPath, Path = directory.File("vmcore.elf"), Format = DumpFormat.Elf }, progress, ct);

        foreach (var format in new[] { DumpFormat.KdumpZlib, DumpFormat.KdumpLzo, DumpFormat.KdumpSnappy, DumpFormat.KdumpZstd })
        {
            var converted = await VmcoreConverter.ConvertAsync(elf.Path, directory.File($"vmcore.{format}"), format, force: false, progress, ct);

            Assert.Equal(DumpSource.VmcoreFile, converted.Source);
            Assert.Equal(elf.Path, converted.Target);
            Assert.Equal(image.Release, converted.KernelRelease);
            Assert.Equal(elf.PhysBase, converted.PhysBase);
            Assert.True(converted.SizeBytes < elf.SizeBytes / 4, $"{format}: {converted.SizeBytes} bytes from {elf.SizeBytes}");
            QmpDumpTests.AssertPrivateFile(converted.Path);

            // Debian's makedumpfile links zlib and LZO only; crash links all four.
            if (format is DumpFormat.KdumpZlib or DumpFormat.KdumpLzo)
            {
                Assert.Contains($"vmdebug marker {PanickedGuestFixture.Markers}", await PeerTools.MakedumpfileDmesgAsync(converted.Path));
            }
            else
            {
                Assert.Contains("Kernel panic - not syncing: sysrq triggered crash", await PeerTools.CrashLogAsync(image.Vmlinux!, converted.Path));
            }
        }

        var exists = await Assert.ThrowsAsync<VmDebugException>(() =>
            VmcoreConverter.ConvertAsync(elf.Path, directory.File("vmcore.KdumpZlib"), DumpFormat.KdumpZlib, force: false, progress, ct));
        Assert.Equal("DumpFileExists", exists.ErrorId);
    }
}
