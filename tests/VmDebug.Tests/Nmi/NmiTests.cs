using System.Diagnostics;
using System.Text.Json;
using VmDebug.Engine;
using VmDebug.Engine.Dump;
using VmDebug.Engine.Guest;
using VmDebug.Engine.GuestKernel;
using VmDebug.Engine.KernelLog;
using VmDebug.Engine.Libvirt;
using VmDebug.Engine.Panic;
using VmDebug.Engine.Qmp;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Nmi;

/// <summary>`vmdebug nmi` against a hung guest over its QMP socket: it panics, and its dump shows the NMI panic.</summary>
public sealed class NmiQmpTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Nmi_over_qmp_panics_a_hung_guest_and_its_dump_names_the_nmi()
    {
        var image = TestEnvironment.Guest;
        await using var guest = await QemuGuest.StartAsync(image, HungGuest.LaunchOptions, cancellationToken: Token);
        await HungGuest.WaitUntilHungAsync(guest.ReadConsole, Token);
        await using (var qmp = await QmpClient.ConnectAsync(guest.QmpSocketPath, null, Token))
        {
            Assert.Equal("running", (await qmp.QueryStatusAsync(null, Token)).Status);
        }

        var (exit, stdout, stderr) = await Support.Cli.RunAsync("nmi", "--socket", guest.QmpSocketPath, "--json");

        Assert.True(exit == 0, stderr);
        using (var json = JsonDocument.Parse(stdout.Trim().Split('\n').Single()))
        {
            Assert.Equal("Qmp", json.RootElement.GetProperty("channel").GetString());
            Assert.Equal(guest.QmpSocketPath, json.RootElement.GetProperty("target").GetString());
            Assert.Equal("running", json.RootElement.GetProperty("stateBefore").GetString());
            Assert.Equal(0, json.RootElement.GetProperty("warnings").GetArrayLength());
        }
        var panic = await GuestPanicWatcher.WaitAsync(guest.QmpSocketPath, TimeSpan.FromSeconds(60), Token);
        Assert.Equal(GuestPanicKind.Panicked, panic.Kind);

        using var directory = new TempDirectory();
        var path = directory.File("vmcore.kdump");
        await GuestMemoryDumper.DumpAsync(new DumpRequest { QmpSocket = guest.QmpSocketPath, Path = path, Format = DumpFormat.KdumpZlib },
            new CallbackProgress<OperationProgress>(_ => { }), Token);
        var crash = await GuestCrashAnalyzer.ReadAsync(new GuestKernelTarget { Path = path }, Token);
        // The console never shows the panic (pvpanic pauses the guest before the kernel flushes it), so the peer
        // reader's log of the dump is the independent witness of the panic line.
        var dmesg = await PeerTools.MakedumpfileDmesgAsync(path);
        var peerPanic = dmesg.Split('\n').Select(l => l.Trim()).Last(l => l.Contains("Kernel panic - not syncing", StringComparison.Ordinal));
        Assert.Contains("NMI", crash.PanicMessage);
        Assert.EndsWith(crash.PanicMessage!, peerPanic);
    }

    [Fact]
    public async Task Nmi_to_a_paused_guest_warns_that_it_waits_for_the_vcpus()
    {
        var image = TestEnvironment.Guest;
        await using var guest = await QemuGuest.StartAsync(image, HungGuest.LaunchOptions with { KernelArguments = [] }, cancellationToken: Token);
        await using (var qmp = await QmpClient.ConnectAsync(guest.QmpSocketPath, null, Token))
        {
            await qmp.StopAsync(null, Token);
        }

        var (exit, stdout, stderr) = await Support.Cli.RunAsync("nmi", "--socket", guest.QmpSocketPath);

        Assert.True(exit == 0, stderr);
        Assert.Matches(@"StateBefore\s+: paused", stdout);
        Assert.Contains("only when its vCPUs run again", stdout);
    }

    [Fact]
    public async Task Nmi_names_a_missing_socket_and_wants_exactly_one_target()
    {
        using var directory = new TempDirectory();
        var missing = directory.File("no-such.sock");

        var (exit, _, stderr) = await Support.Cli.RunAsync("nmi", "--socket", missing, "--json");
        Assert.NotEqual(0, exit);
        using (var json = JsonDocument.Parse(stderr.Trim().Split('\n').Last()))
        {
            Assert.Equal("QmpSocketNotFound", json.RootElement.GetProperty("error").GetProperty("id").GetString());
            Assert.Contains(missing, json.RootElement.GetProperty("error").GetProperty("message").GetString());
        }

        var (neither, _, neitherErr) = await Support.Cli.RunAsync("nmi");
        Assert.NotEqual(0, neither);
        Assert.Contains("exactly one of --socket and --domain", neitherErr);
        var (both, _, bothErr) = await Support.Cli.RunAsync("nmi", "--socket", missing, "--domain", "web1");
        Assert.NotEqual(0, both);
        Assert.Contains("exactly one of --socket and --domain", bothErr);
    }
}

/// <summary>`vmdebug nmi --domain` through the private libvirtd (virDomainInjectNMI): the hung domain becomes crashed.</summary>
[Collection(LibvirtDaemonCollection.Name)]
public sealed class NmiLibvirtTests(LibvirtDaemonFixture daemon)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Nmi_through_libvirt_crashes_a_hung_domain()
    {
        daemon.SkipIfUnavailable();
        var image = TestEnvironment.Guest;
        using var directory = new TempDirectory();
        var console = directory.File("console.log");
        using var connection = daemon.Connect();
        var name = TestDomains.UniqueName("nmi");
        using var domain = connection.DefineDomain(HungGuest.DomainXml(name, image, console));
        try
        {
            domain.Create();
            await HungGuest.WaitUntilHungAsync(() => HungGuest.ReadShared(console), Token);
            Assert.Equal(LibvirtDomainState.Running, domain.GetState().State);

            var (exit, stdout, stderr) = await Support.Cli.RunAsync("nmi", "--domain", name, "--connect", daemon.Uri, "--json");

            Assert.True(exit == 0, stderr);
            using (var json = JsonDocument.Parse(stdout.Trim().Split('\n').Single()))
            {
                Assert.Equal("Libvirt", json.RootElement.GetProperty("channel").GetString());
                Assert.Equal(name, json.RootElement.GetProperty("domain").GetString());
                Assert.Equal("running", json.RootElement.GetProperty("stateBefore").GetString());
            }
            var clock = Stopwatch.StartNew();
            while (domain.GetState().State != LibvirtDomainState.Crashed)
            {
                if (clock.Elapsed > TimeSpan.FromSeconds(60))
                {
                    Assert.Fail($"The domain is {domain.GetState().State} 60 s after the NMI. Console:\n{HungGuest.ReadShared(console)}");
                }

                await Task.Delay(200, Token);
            }
            Assert.Equal(1, domain.GetState().Reason); // VIR_DOMAIN_CRASHED_PANICKED: the guest panicked (pvpanic)

            var (unknown, _, unknownErr) = await Support.Cli.RunAsync("nmi", "--domain", name + "-missing", "--connect", daemon.Uri, "--json");
            Assert.NotEqual(0, unknown);
            using var error = JsonDocument.Parse(unknownErr.Trim().Split('\n').Last());
            Assert.Equal("LibvirtDomainNotFound", error.RootElement.GetProperty("error").GetProperty("id").GetString());
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
}
