using VmDebug.Engine;
using VmDebug.Engine.Dump;
using VmDebug.Engine.Libvirt;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Dump;

/// <summary>Invoke-GuestMemoryDump -Domain through a real (private) libvirtd, read back by makedumpfile and crash.</summary>
[Collection(LibvirtDaemonCollection.Name)]
public sealed class LibvirtDumpTests(LibvirtDaemonFixture daemon)
{
    private const int Markers = 4;

    [Fact]
    public async Task APanickedDomainStreamsThroughAPipeAndOpensInMakedumpfileAndCrashInEveryFormat()
    {
        daemon.SkipIfUnavailable();
        var ct = TestContext.Current.CancellationToken;
        var image = TestEnvironment.GuestWithDebugSymbols;
        using var connection = daemon.Connect();
        var name = TestDomains.UniqueName("dump");
        using var domain = connection.DefineDomain(TestDomains.PanickingGuest(name, image, panicAfterSeconds: 0, markers: Markers));
        try
        {
            using var events = connection.SubscribeLifecycleEvents(domain);
            domain.Create();
            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                wait.CancelAfter(TimeSpan.FromSeconds(120));
                while (!(await events.Events.ReadAsync(wait.Token)).IsPanic)
                {
                }
            }

            // libvirt opens a FIFO VmDebug reads, as QMP's pipe: every format, LZO and zstd included, which this QEMU cannot write.
            foreach (var (format, level) in new[] { (DumpFormat.Elf, 0), (DumpFormat.KdumpZlib, 0), (DumpFormat.KdumpLzo, 31), (DumpFormat.KdumpZstd, 31) })
            {
                using var directory = new TempDirectory();
                var path = directory.File("vmcore");
                var dump = await GuestMemoryDumper.DumpAsync(
                    new DumpRequest { Domain = name, ConnectionUri = daemon.Uri, Path = path, Format = format, DumpLevel = level == 0 ? null : level },
                    new CallbackProgress<OperationProgress>(_ => { }), ct);

                Assert.Equal(DumpSource.Libvirt, dump.Source);
                Assert.Equal(name, dump.Domain);
                Assert.Equal(image.Release, dump.KernelRelease);
                Assert.Empty(dump.Warnings);
                Assert.Empty(dump.Repairs);
                Assert.NotNull(dump.GuestPaused);
                QmpDumpTests.AssertPrivateFile(path);
                Assert.Single(Directory.GetFileSystemEntries(directory.Path));
                if (level == 31)
                {
                    Assert.True(dump.Pages!.Kept < dump.Pages.Total / 4, dump.Pages.ToString());
                }

                if (format != DumpFormat.KdumpZstd)
                {
                    var dmesg = await PeerTools.MakedumpfileDmesgAsync(path);
                    Assert.Contains($"vmdebug marker {Markers}", dmesg);
                    Assert.Contains("Kernel panic - not syncing", dmesg);
                }
                var log = await PeerTools.CrashLogAsync(image.Vmlinux!, path);
                Assert.Contains("Kernel panic - not syncing: sysrq triggered crash", log);
            }
        }
        finally
        {
            if (domain.IsActive)
            {
                domain.Destroy();
            }

            domain.Undefine();
        }
    }

    [Fact]
    public async Task AnUnknownDomainIsNamed()
    {
        daemon.SkipIfUnavailable();
        using var directory = new TempDirectory();
        var error = await Assert.ThrowsAsync<LibvirtException>(() => GuestMemoryDumper.DumpAsync(
            new DumpRequest { Domain = "vmdebug-no-such-domain", ConnectionUri = daemon.Uri, Path = directory.File("vmcore") },
            new CallbackProgress<OperationProgress>(_ => { }), TestContext.Current.CancellationToken));
        Assert.Equal(ErrorKind.ObjectNotFound, error.Kind);
        Assert.Contains("vmdebug-no-such-domain", error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(directory.Path));
    }
}
