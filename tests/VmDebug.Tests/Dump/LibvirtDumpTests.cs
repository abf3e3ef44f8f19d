using VmDebug.Engine;
using VmDebug.Engine.Dump;
using VmDebug.Engine.Libvirt;
using VmDebug.Tests.Libvirt;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Dump;

/// <summary>Invoke-GuestMemoryDump -Domain through a real (private) libvirtd, read back by makedumpfile and crash.</summary>
[Collection(LibvirtDaemonCollection.Name)]
public sealed class LibvirtDumpTests(LibvirtDaemonFixture daemon)
{
    private const int Markers = 4;

    [Fact]
    public async Task APanickedDomainsDumpsOpenInMakedumpfileAndCrashInEveryFormatThisQemuWrites()
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

            foreach (var format in new[] { DumpFormat.Elf, DumpFormat.KdumpZlib })
            {
                using var directory = new TempDirectory();
                var path = directory.File("vmcore");
                var dump = await GuestMemoryDumper.DumpAsync(
                    new DumpRequest { Domain = name, ConnectionUri = daemon.Uri, Path = path, Format = format },
                    new CallbackProgress<OperationProgress>(_ => { }), ct);

                Assert.Equal(DumpSource.Libvirt, dump.Source);
                Assert.Equal(name, dump.Domain);
                Assert.Equal(image.Release, dump.KernelRelease);
                Assert.Empty(dump.Warnings);
                QmpDumpTests.AssertPrivateFile(path);
                Assert.Single(Directory.GetFileSystemEntries(directory.Path));

                var dmesg = await PeerTools.MakedumpfileDmesgAsync(path);
                Assert.Contains($"vmdebug marker {Markers}", dmesg);
                Assert.Contains("Kernel panic - not syncing", dmesg);
                var log = await PeerTools.CrashLogAsync(image.Vmlinux!, path);
                Assert.Contains("Kernel panic - not syncing: sysrq triggered crash", log);
            }

            using var unsupported = new TempDirectory();
            var error = await Assert.ThrowsAsync<LibvirtException>(() => GuestMemoryDumper.DumpAsync(
                new DumpRequest { Domain = name, ConnectionUri = daemon.Uri, Path = unsupported.File("vmcore"), Format = DumpFormat.KdumpLzo },
                new CallbackProgress<OperationProgress>(_ => { }), ct));
            Assert.Contains("kdump-lzo", error.Message);
            Assert.Empty(Directory.GetFileSystemEntries(unsupported.Path));

            // With a dump level libvirt writes the raw ELF and VmDebug the LZO file, which this QEMU cannot write.
            using var filteredDirectory = new TempDirectory();
            var filteredPath = filteredDirectory.File("vmcore.lzo");
            var filtered = await GuestMemoryDumper.DumpAsync(
                new DumpRequest { Domain = name, ConnectionUri = daemon.Uri, Path = filteredPath, Format = DumpFormat.KdumpLzo, DumpLevel = 31 },
                new CallbackProgress<OperationProgress>(_ => { }), ct);
            Assert.Equal(DumpSource.Libvirt, filtered.Source);
            Assert.True(filtered.Pages!.Kept < filtered.Pages.Total / 4, filtered.Pages.ToString());
            QmpDumpTests.AssertPrivateFile(filteredPath);
            Assert.Single(Directory.GetFileSystemEntries(filteredDirectory.Path));
            Assert.Contains("Kernel panic - not syncing", await PeerTools.MakedumpfileDmesgAsync(filteredPath));
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
