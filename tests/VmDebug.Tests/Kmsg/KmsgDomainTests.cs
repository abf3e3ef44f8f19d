using System.Diagnostics;
using VmDebug.Engine;
using VmDebug.Engine.Kmsg;
using VmDebug.Engine.Libvirt;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Kmsg;

/// <summary>-Domain resolution against a private libvirtd running the real test guest under TCG.</summary>
[Collection(LibvirtDaemonCollection.Name)]
public sealed class KmsgDomainTests(LibvirtDaemonFixture daemon) : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("vmdebug-kmsg-domain-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void Log(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    [Fact]
    public async Task StreamsTheKernelLogOfADomainThroughItsChannel()
    {
        daemon.SkipIfUnavailable();
        const int Markers = 4;
        var socket = Path.Combine(_scratch, "kmsg.sock");
        var name = TestDomains.UniqueName("kmsg");
        using var connection = daemon.Connect();
        using var domain = connection.DefineDomain(TestDomains.KmsgGuest(name, TestEnvironment.Guest, TestDomains.KmsgChannel(socket), Markers));
        try
        {
            var stopped = await Assert.ThrowsAsync<KmsgDomainException>(() => KmsgSource.ForDomainAsync(name, daemon.Uri, cancellationToken: Ct));
            Assert.Equal("KmsgDomainNotRunning", stopped.ErrorId);
            Assert.Equal(name, stopped.Target);

            var clock = Stopwatch.StartNew();
            domain.Create();
            var source = await KmsgSource.ForDomainAsync(name, daemon.Uri, cancellationToken: Ct);
            Assert.Contains(socket, source.Description);
            Log($"resolved {source.Description} {clock.ElapsedMilliseconds} ms after start");

            var records = new List<KmsgRecord>();
            TimeSpan? firstRecord = null;
            await foreach (var item in KmsgStream.ReadAsync(source, new KmsgStreamOptions { Timeout = TimeSpan.FromMinutes(2) }, Ct))
            {
                if (item is not KmsgRecord record)
                {
                    continue;
                }

                firstRecord ??= clock.Elapsed;
                records.Add(record);
                if (record.Message == $"vmdebug marker {Markers}")
                {
                    break;
                }
            }

            Assert.True(records.Count > 0, "no record arrived through the domain's channel");
            Assert.Equal(0UL, records[0].Sequence);
            Assert.StartsWith("Linux version ", records[0].Message);
            Assert.All(records, r => Assert.Equal(name, r.Guest));
            var markers = records.Where(r => r.Message.StartsWith("vmdebug marker ", StringComparison.Ordinal)).ToList();
            Assert.Equal(Enumerable.Range(1, Markers).Select(i => $"vmdebug marker {i}"), markers.Select(m => m.Message));
            Assert.All(markers, m => Assert.Equal(KmsgLevel.Err, m.Level));
            Assert.True(records.Zip(records.Skip(1)).All(pair => pair.Second.Sequence > pair.First.Sequence), "sequence numbers must increase");
            Log($"{records.Count} records; first {firstRecord!.Value.TotalSeconds:0.00} s, last marker {clock.Elapsed.TotalSeconds:0.00} s after start");
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
    public async Task CliStreamsADomainsKernelLogThroughLibvirt()
    {
        daemon.SkipIfUnavailable();
        const int Markers = 3;
        var socket = Path.Combine(_scratch, "kmsg.sock");
        var name = TestDomains.UniqueName("kmsgcli");
        using var connection = daemon.Connect();
        using var domain = connection.DefineDomain(TestDomains.KmsgGuest(name, TestEnvironment.Guest, TestDomains.KmsgChannel(socket), Markers));
        try
        {
            domain.Create();
            await using var cli = LiveCli.Start("kmsg", "--domain", name, "--connect", daemon.Uri, "--json");
            var records = new List<System.Text.Json.Nodes.JsonNode>();
            while (records.Count == 0 || (string?)records[^1]["message"] != $"vmdebug marker {Markers}")
            {
                var line = await cli.ReadLineAsync(TimeSpan.FromMinutes(2), Ct);
                Assert.True(line is not null, $"stdout ended early; stderr: {cli.Stderr}");
                records.Add(System.Text.Json.Nodes.JsonNode.Parse(line)!);
            }

            cli.Interrupt();
            Assert.Equal(130, await cli.WaitForExitAsync(TimeSpan.FromSeconds(10), Ct));
            Assert.Equal(0UL, (ulong)records[0]["sequence"]!);
            Assert.StartsWith("Linux version ", (string?)records[0]["message"]);
            Assert.All(records, r => Assert.Equal(name, (string?)r["guest"]));
            Assert.Equal(Markers, records.Count(r => ((string?)r["message"])!.StartsWith("vmdebug marker ", StringComparison.Ordinal)));
            Log($"{records.Count} records through vmdebug kmsg --domain");
        }
        finally
        {
            if (domain.IsActive)
            {
                domain.Destroy();
            }

            domain.Undefine();
        }

        var missing = await Support.Cli.RunAsync("kmsg", "--domain", name, "--connect", daemon.Uri, "--json");
        Assert.Equal(4, missing.ExitCode);
        Assert.Equal("LibvirtDomainNotFound", (string?)System.Text.Json.Nodes.JsonNode.Parse(missing.Stderr.Trim())!["error"]!["id"]);
    }

    [Fact]
    public async Task ReadsTheChannelPathLibvirtGeneratesFromTheLiveXml()
    {
        daemon.SkipIfUnavailable();
        var name = TestDomains.UniqueName("kmsgauto");
        using var connection = daemon.Connect();
        using var domain = connection.DefineDomain(TestDomains.KmsgGuest(name, TestEnvironment.Guest, TestDomains.KmsgChannel(null), 0));
        try
        {
            Assert.DoesNotContain("path=", domain.GetXmlDesc(LibvirtDomainXmlFlags.Inactive));
            domain.Create();
            var source = await KmsgSource.ForDomainAsync(name, daemon.Uri, cancellationToken: Ct);
            // The daemon's /var/lib/libvirt lives in its own mount namespace; the path is what its QEMU listens on.
            Assert.Contains($"/var/lib/libvirt/qemu/channel/target/", source.Description);
            Assert.Contains(KmsgDomainResolver.ChannelName, source.Description);
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
    public async Task VsockDomainListensOnThePortForItsCidOnly()
    {
        daemon.SkipIfUnavailable();
        var name = TestDomains.UniqueName("kmsgvsock");
        using var connection = daemon.Connect();
        // Defined only: this host has no /dev/vhost-vsock to start it, and a fixed CID is known without starting.
        using var domain = connection.DefineDomain(TestDomains.KmsgGuest(name, TestEnvironment.Guest,
            "<vsock model='virtio'><cid auto='no' address='4711'/></vsock>", 0));
        try
        {
            var withoutPort = await Assert.ThrowsAsync<KmsgDomainException>(() => KmsgSource.ForDomainAsync(name, daemon.Uri, cancellationToken: Ct));
            Assert.Equal("KmsgDomainPortRequired", withoutPort.ErrorId);

            var port = VsockListenerTests.FreePort();
            var source = await KmsgSource.ForDomainAsync(name, daemon.Uri, port, Ct);
            Assert.Contains("vsock CID 4711", source.Description);
            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var reading = Task.Run(async () =>
            {
                await foreach (var unused in KmsgStream.ReadAsync(source, cancellationToken: cancel.Token))
                {
                }
            }, Ct);
            var clock = Stopwatch.StartNew();
            while (VsockListenerTests.TryBind(port))
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the domain's stream never bound vsock port {port}");
                await Task.Delay(20, Ct);
            }

            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading.WaitAsync(TimeSpan.FromSeconds(5), Ct));
            Assert.True(VsockListenerTests.TryBind(port), $"vsock port {port} is still bound after the stream ended");
        }
        finally
        {
            domain.Undefine();
        }
    }

    [Fact]
    public async Task DomainWithoutTransportGetsAnErrorSayingWhatXmlToAdd()
    {
        daemon.SkipIfUnavailable();
        var name = TestDomains.UniqueName("kmsgnone");
        using var connection = daemon.Connect();
        using var domain = connection.DefineDomain(TestDomains.Minimal(name, Guid.NewGuid()));
        try
        {
            var none = await Assert.ThrowsAsync<KmsgDomainException>(() => KmsgSource.ForDomainAsync(name, daemon.Uri, cancellationToken: Ct));
            Assert.Equal("KmsgDomainHasNoEndpoint", none.ErrorId);
            Assert.Equal(ErrorKind.ObjectNotFound, none.Kind);
            Assert.Contains(name, none.Message);
            Assert.Contains("<target type='virtio' name='org.vmdebug.kmsg'/>", none.Message);
            Assert.Contains("<vsock model='virtio'>", none.Message);

            var noVsock = await Assert.ThrowsAsync<KmsgDomainException>(() => KmsgSource.ForDomainAsync(name, daemon.Uri, 9000, Ct));
            Assert.Equal("KmsgDomainHasNoVsock", noVsock.ErrorId);
            Assert.Contains("9000", noVsock.Message);

            var unknown = await Assert.ThrowsAsync<LibvirtException>(() => KmsgSource.ForDomainAsync(name + "-gone", daemon.Uri, cancellationToken: Ct));
            Assert.Equal("LibvirtDomainNotFound", unknown.ErrorId);
        }
        finally
        {
            domain.Undefine();
        }
    }
}

/// <summary>The choice between channel and vsock from domain XML, for shapes a test daemon will not run.</summary>
public sealed class KmsgDomainXmlTests
{
    private static string Domain(string devices) => $"<domain type='kvm'><name>web1</name><devices>{devices}</devices></domain>";

    [Fact]
    public void ChannelInConnectModeOrOfAnotherTypeIsRefusedWithTheXmlToUse()
    {
        foreach (var channel in new[]
                 {
                     "<channel type='unix'><source mode='connect' path='/run/k.sock'/><target type='virtio' name='org.vmdebug.kmsg'/></channel>",
                     "<channel type='pty'><target type='virtio' name='org.vmdebug.kmsg'/></channel>",
                 })
        {
            var e = Assert.Throws<KmsgDomainException>(() => KmsgSource.ForDomainXml(Domain(channel)));
            Assert.Equal("KmsgDomainChannelUnsupported", e.ErrorId);
            Assert.Contains("<source mode='bind'/>", e.Message);
        }
    }

    [Fact]
    public void OtherChannelsAreIgnoredAndTheKmsgOneIsChosen()
    {
        var xml = Domain(
            "<channel type='unix'><source mode='bind' path='/run/agent.sock'/><target type='virtio' name='org.qemu.guest_agent.0'/></channel>" +
            "<channel type='unix'><source mode='bind' path='/run/kmsg.sock'/><target type='virtio' name='org.vmdebug.kmsg'/></channel>" +
            "<vsock model='virtio'><cid auto='yes' address='7'/></vsock>");
        Assert.Contains("/run/kmsg.sock", KmsgSource.ForDomainXml(xml).Description);
        Assert.Contains("vsock CID 7, host port 1234", KmsgSource.ForDomainXml(xml, 1234).Description);
    }

    [Fact]
    public void AutomaticCidOfAStoppedDomainIsUnknown()
    {
        var e = Assert.Throws<KmsgDomainException>(() =>
            KmsgSource.ForDomainXml(Domain("<vsock model='virtio'><cid auto='yes'/></vsock>"), 1234, isRunning: false));
        Assert.Equal("KmsgDomainNotRunning", e.ErrorId);
        Assert.Contains("web1", e.Message);
        Assert.Equal("KmsgDomainVsockCidInvalid", Assert.Throws<KmsgDomainException>(() =>
            KmsgSource.ForDomainXml(Domain("<vsock model='virtio'><cid auto='no' address='2'/></vsock>"), 1234)).ErrorId);
    }
}
