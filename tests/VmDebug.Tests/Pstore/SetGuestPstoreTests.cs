using VmDebug.Engine;
using VmDebug.Engine.GuestKernel;
using VmDebug.Engine.Pstore;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Pstore;

/// <summary>
/// Set-GuestPstore's plan on domain XML files (validated by virt-xml-validate), then the whole loop on the private
/// libvirtd: the configured domain boots with its region, panics, and Get-GuestPstore reads the record over libvirt,
/// its ECC parity (written by the guest's kernel) checked.
/// </summary>
[Collection(LibvirtDaemonCollection.Name)]
public sealed class SetGuestPstoreTests(LibvirtDaemonFixture daemon) : IDisposable
{
    private const ulong MiB = 1 << 20;
    private readonly string _dir = TempFiles.NewDirectory();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ADirectBootDomainGetsTheReservationAndParametersInUsableRamAndAValidXml()
    {
        var xmlPath = Path.Combine(_dir, "guest.xml");
        var original = TestDomains.PanickingGuest("vmdebug-pstore-offline", TestEnvironment.Guest, panicAfterSeconds: 2, memoryMiB: 512);
        await File.WriteAllTextAsync(xmlPath, original, Ct);

        using var change = PstoreConfigurator.Plan(new PstoreConfigurationRequest { XmlPath = xmlPath, Size = MiB }, Ct);
        var planned = change.Preview;
        Assert.Equal(original, await File.ReadAllTextAsync(xmlPath, Ct)); // planning (-WhatIf) writes nothing
        Assert.True(planned.Changed);
        Assert.Equal(PstoreAddressSource.MemoryLayout, planned.AddressSource);
        // Inside q35's 512 MiB of low RAM, past the first MiB and the kernel, 1 MiB aligned, room left for the initrd above.
        Assert.InRange(planned.Address, 64 * MiB, 512 * MiB - 64 * MiB);
        Assert.Equal(0UL, planned.Address % MiB);
        Assert.Equal(MiB / 8, planned.RecordSize);
        Assert.Contains($"memmap=1M$0x{planned.Address:x} ramoops.mem_address=0x{planned.Address:x} ramoops.mem_size=0x100000", planned.CommandLine, StringComparison.Ordinal);
        Assert.StartsWith("console=ttyS0 panic=0", planned.CommandLine, StringComparison.Ordinal); // the rest of the line is kept
        Assert.Contains(planned.Warnings, w => w.Contains("panic device", StringComparison.Ordinal) && w.Contains("never written", StringComparison.Ordinal));
        var diffLines = planned.Diff.Split('\n').Where(l => l.Length > 0 && l[0] is '+' or '-' && !l.StartsWith("+++", StringComparison.Ordinal) && !l.StartsWith("---", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, diffLines.Count); // only the <cmdline> line changes

        change.Apply(Ct);
        var (code, stdout, stderr) = TestHost.Run("virt-xml-validate", xmlPath, "domain");
        Assert.True(code == 0, stdout + stderr);

        // Again, other size: the old words are replaced, not piled up.
        using var again = PstoreConfigurator.Plan(new PstoreConfigurationRequest { XmlPath = xmlPath, Size = 2 * MiB, Address = planned.Address }, Ct);
        Assert.Equal(1, again.Preview.CommandLine!.Split(' ').Count(w => w.StartsWith("memmap=", StringComparison.Ordinal)));
        Assert.Contains("ramoops.mem_size=0x200000", again.Preview.CommandLine, StringComparison.Ordinal);
        using var same = PstoreConfigurator.Plan(new PstoreConfigurationRequest { XmlPath = xmlPath, Size = MiB, Address = planned.Address }, Ct);
        Assert.False(same.HasChanges);

        var outside = Assert.Throws<PstoreException>(() =>
            PstoreConfigurator.Plan(new PstoreConfigurationRequest { XmlPath = xmlPath, Size = MiB, Address = 600 * MiB }, Ct));
        Assert.Equal(PstoreException.AddressUnusable, outside.ErrorId);
    }

    [Fact]
    public async Task ADomainWithoutDirectKernelBootGetsTheParametersToAddInsideTheGuest()
    {
        var xmlPath = Path.Combine(_dir, "firmware.xml");
        await File.WriteAllTextAsync(xmlPath, TestDomains.Minimal("vmdebug-pstore-bios", Guid.NewGuid(), memoryMiB: 1024), Ct);
        using var change = PstoreConfigurator.Plan(new PstoreConfigurationRequest { XmlPath = xmlPath, Size = MiB }, Ct);
        var configuration = change.Preview;
        Assert.False(change.HasChanges);
        Assert.False(configuration.DirectKernelBoot);
        Assert.Null(configuration.CommandLine);
        Assert.StartsWith($"memmap=1M$0x{configuration.Address:x} ramoops.mem_address=", configuration.KernelParameters, StringComparison.Ordinal);
        Assert.Contains(configuration.Warnings, w => w.Contains("inside the guest", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheConfiguredDomainBootsPanicsAndItsRecordIsReadOverLibvirtWithEccChecked()
    {
        daemon.SkipIfUnavailable();
        var name = TestDomains.UniqueName("pstore");
        var xmlPath = Path.Combine(_dir, "domain.xml");
        // The panic device would stop the guest before pstore writes (Set-GuestPstore warns so): this domain has none.
        var xml = TestDomains.PanickingGuest(name, TestEnvironment.Guest, panicAfterSeconds: 2, memoryMiB: 512).Replace("<panic model='isa'/>", "", StringComparison.Ordinal);
        await File.WriteAllTextAsync(xmlPath, xml, Ct);
        using (var change = PstoreConfigurator.Plan(new PstoreConfigurationRequest { XmlPath = xmlPath, Size = MiB, Ecc = 16 }, Ct))
        {
            Assert.DoesNotContain(change.Preview.Warnings, w => w.Contains("panic device", StringComparison.Ordinal));
            change.Apply(Ct);
        }
        using var connection = daemon.Connect();
        using var domain = connection.DefineDomain(await File.ReadAllTextAsync(xmlPath, Ct));
        try
        {
            domain.Create();
            var target = new GuestKernelTarget { Domain = name, ConnectionUri = daemon.Uri };
            var result = await WaitForRecordAsync(target);
            var record = Assert.Single(result.Records);
            Assert.Equal(("Panic", true), (record.Reason, record.Compressed));
            Assert.Contains("Kernel panic - not syncing: sysrq triggered crash", record.Text, StringComparison.Ordinal);
            Assert.Equal(16, result.Layout.EccSize);
            Assert.DoesNotContain(result.Warnings, w => w.Contains("ECC", StringComparison.Ordinal));

            // The running domain's own e820 map now places the region.
            using var live = PstoreConfigurator.Plan(new PstoreConfigurationRequest { Domain = name, ConnectionUri = daemon.Uri, Size = MiB }, Ct);
            Assert.Equal(PstoreAddressSource.E820, live.Preview.AddressSource);
            Assert.Contains("e820", live.Preview.AddressReason, StringComparison.Ordinal);
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

    /// <summary>Reads over libvirt until the panic's record is there (before it: no record yet, or no VMCOREINFO while booting).</summary>
    private static async Task<PstoreReadResult> WaitForRecordAsync(GuestKernelTarget target)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            try
            {
                var result = await PstoreReader.ReadAsync(new PstoreRequest { Target = target }, Ct);
                if (result.Records.Count > 0)
                {
                    return result;
                }
            }
            catch (VmDebugException e) when (DateTime.UtcNow < deadline && e.ErrorId is GuestKernelException.NoVmcoreInfo or PstoreException.NotConfigured or PstoreException.NoRegion)
            {
                // Still booting: no VMCOREINFO, no command line record, or ramoops not loaded yet.
            }
            Assert.True(DateTime.UtcNow < deadline, "the guest's panic record never appeared");
            await Task.Delay(1000, Ct);
        }
    }
}
