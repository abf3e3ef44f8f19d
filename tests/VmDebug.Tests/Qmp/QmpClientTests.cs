using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using VmDebug.Engine;
using VmDebug.Engine.Qmp;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Qmp;

/// <summary>Protocol behaviour against a scripted server: the faults real QEMU does not produce on demand.</summary>
public class QmpClientTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<QmpClient> ConnectReadyAsync(FakeQmpServer server, QmpClientOptions? options = null)
    {
        var connect = QmpClient.ConnectAsync(server.SocketPath, options, Ct);
        await server.HandshakeAsync();
        return await connect;
    }

    [Fact]
    public async Task Negotiation_WaitsForTheGreeting_ThenSendsPlainCapabilities_ThenCommandsWithIds()
    {
        await using var server = FakeQmpServer.Start();
        var connect = QmpClient.ConnectAsync(server.SocketPath, null, Ct);
        await server.AcceptAsync();
        Assert.True(await server.StaysQuietAsync(TimeSpan.FromMilliseconds(300)), "the client must not speak before the greeting");

        await server.SendAsync(FakeQmpServer.QemuGreeting);
        var negotiation = await server.ReceiveAsync();
        Assert.Equal("""{"execute":"qmp_capabilities"}""", negotiation.ToJsonString()); // oob offered but not requested
        Assert.False(connect.IsCompleted, "connect must wait for the qmp_capabilities reply");
        await server.SendAsync("""{"return": {}}""");
        await using var client = await connect;

        Assert.Equal(new QmpVersion(7, 2, 2, "Debian 1:7.2+dfsg"), client.Greeting.Version);
        Assert.Equal(["oob"], client.Greeting.Capabilities);
        Assert.False(client.OobEnabled);

        var status = client.QueryStatusAsync(cancellationToken: Ct);
        var request = await server.ReceiveAsync();
        Assert.Equal("query-status", (string?)request["execute"]);
        Assert.Equal("vmdebug-1", FakeQmpServer.Id(request));
        Assert.False(request.ContainsKey("arguments"));
        await server.SendAsync($$"""{"return": {"status": "prelaunch", "singlestep": false, "running": false}, "id": "vmdebug-1"}""");
        Assert.Equal(new QmpStatus(false, "prelaunch"), await status);

        var second = client.ExecuteAsync("query-name", null, null, Ct);
        Assert.Equal("vmdebug-2", FakeQmpServer.Id(await server.ReceiveAsync()));
        await server.SendAsync("""{"return": {}, "id": "vmdebug-2"}""");
        await second;
    }

    [Theory]
    [InlineData(true, """["oob"]""", true)]
    [InlineData(true, "[]", false)]
    [InlineData(false, """["oob"]""", false)]
    public async Task Negotiation_EnablesOobOnlyWhenAdvertisedAndRequested(bool requested, string advertised, bool expected)
    {
        await using var server = FakeQmpServer.Start();
        var connect = QmpClient.ConnectAsync(server.SocketPath, new QmpClientOptions { EnableOob = requested }, Ct);
        await server.AcceptAsync();
        await server.SendAsync($$$"""{"QMP": {"version": {"qemu": {"micro": 0, "minor": 0, "major": 9}, "package": ""}, "capabilities": {{{advertised}}}}}""");
        var negotiation = await server.ReceiveAsync();
        var expectedJson = expected
            ? """{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}"""
            : """{"execute":"qmp_capabilities"}""";
        Assert.Equal(expectedJson, negotiation.ToJsonString());
        await server.SendAsync("""{"return": {}}""");
        await using var client = await connect;
        Assert.Equal(expected, client.OobEnabled);
    }

    [Fact]
    public async Task Negotiation_Rejected_IsANegotiationError()
    {
        await using var server = FakeQmpServer.Start();
        var connect = QmpClient.ConnectAsync(server.SocketPath, null, Ct);
        await server.AcceptAsync();
        await server.SendAsync(FakeQmpServer.QemuGreeting);
        await server.ReceiveAsync();
        await server.SendAsync("""{"error": {"class": "GenericError", "desc": "Capability 'oob' unavailable"}}""");

        var error = await Assert.ThrowsAsync<QmpNegotiationException>(() => connect);
        Assert.Equal("QmpNegotiationFailed", error.ErrorId);
        Assert.Contains("Capability 'oob' unavailable", error.Message);
        Assert.Equal(server.SocketPath, error.Target);
    }

    [Fact]
    public async Task EventsInterleavedWithReplies_ReachTheChannelInOrder_AndRepliesReachTheirCallers()
    {
        await using var server = FakeQmpServer.Start();
        await using var client = await ConnectReadyAsync(server);

        var first = client.ExecuteAsync("query-first", null, null, Ct);
        var firstId = FakeQmpServer.Id(await server.ReceiveAsync());
        var second = client.ExecuteAsync("query-second", null, null, Ct);
        var secondId = FakeQmpServer.Id(await server.ReceiveAsync());

        await server.SendAsync("""{"timestamp": {"seconds": 1700000000, "microseconds": 250000}, "event": "STOP"}""");
        await server.SendAsync($$"""{"return": {"which": 2}, "id": "{{secondId}}"}""");
        await server.SendAsync("""{"timestamp": {"seconds": 1700000001, "microseconds": 5}, "event": "GUEST_PANICKED", "data": {"action": "pause"}}""");
        await server.SendAsync($$"""{"return": {"which": 1}, "id": "{{firstId}}"}""");

        // Nobody read the events yet: replies must not wait for the listener.
        Assert.Equal(2, (int?)(await second)!["which"]);
        Assert.Equal(1, (int?)(await first)!["which"]);

        var stop = await client.Events.ReadAsync(Ct);
        Assert.Equal("STOP", stop.Name);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000000).AddMilliseconds(250), stop.Timestamp);
        Assert.Null(stop.Data);
        var panic = await client.Events.ReadAsync(Ct);
        Assert.Equal("GUEST_PANICKED", panic.Name);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000001).AddTicks(50), panic.Timestamp);
        Assert.Equal("pause", (string?)panic.Data!["action"]);
    }

    [Fact]
    public async Task ReplyWithUnknownId_IsDroppedAndCounted()
    {
        await using var server = FakeQmpServer.Start();
        var dropped = new List<string>();
        await using var client = await ConnectReadyAsync(server, new QmpClientOptions { ReplyDropped = m => dropped.Add(m.ToJsonString()) });

        var call = client.ExecuteAsync("query-x", null, null, Ct);
        var id = FakeQmpServer.Id(await server.ReceiveAsync());
        await server.SendAsync("""{"return": {"stray": true}, "id": "somebody-else"}""");
        await server.SendAsync("""{"error": {"class": "GenericError", "desc": "late"}, "id": 42}""");
        await server.SendAsync($$"""{"return": {"mine": true}, "id": "{{id}}"}""");

        Assert.True((bool?)(await call)!["mine"]);
        Assert.Equal(2, client.DroppedReplyCount);
        Assert.Equal(2, dropped.Count);
        Assert.Contains("somebody-else", dropped[0]);
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task ErrorReply_IsACommandException_WithClassDescriptionAndCommand_AndTheConnectionStaysUsable()
    {
        await using var server = FakeQmpServer.Start();
        await using var client = await ConnectReadyAsync(server);

        var call = client.DumpGuestMemoryAsync(DumpGuestMemoryRequest.ToFile("/nonexistent/x") with { Format = "kdump-lzo" }, null, Ct);
        var request = await server.ReceiveAsync();
        Assert.Equal("""{"paging":false,"protocol":"file:/nonexistent/x","format":"kdump-lzo"}""", request["arguments"]!.ToJsonString());
        await server.SendAsync($$$"""{"id": "{{{FakeQmpServer.Id(request)}}}", "error": {"class": "GenericError", "desc": "unsupported dump format 'kdump-lzo'"}}""");

        var error = await Assert.ThrowsAsync<QmpCommandException>(() => call);
        Assert.Equal("QmpCommandFailed", error.ErrorId);
        Assert.Equal("GenericError", error.ErrorClass);
        Assert.Equal("unsupported dump format 'kdump-lzo'", error.Description);
        Assert.Equal("dump-guest-memory", error.Command);
        Assert.Contains("kdump-lzo", error.ArgumentsJson);
        Assert.Contains("dump-guest-memory", error.Message);
        Assert.IsAssignableFrom<VmDebugException>(error);

        var next = client.StopAsync(null, Ct);
        await server.SendAsync($$"""{"return": {}, "id": "{{FakeQmpServer.Id(await server.ReceiveAsync())}}"}""");
        await next;
    }

    [Fact]
    public async Task ErrorWithoutId_IsAProtocolFailure_ThatFailsEverything()
    {
        await using var server = FakeQmpServer.Start();
        await using var client = await ConnectReadyAsync(server);

        var call = client.ExecuteAsync("query-x", null, null, Ct);
        await server.ReceiveAsync();
        await server.SendAsync("""{"error": {"class": "GenericError", "desc": "JSON parse error, invalid keyword 'garbage'"}}""");

        var error = await Assert.ThrowsAsync<QmpProtocolException>(() => call);
        Assert.Equal("QmpErrorWithoutId", error.ErrorId);
        Assert.Contains("invalid keyword", error.Message);
        Assert.False(client.IsConnected);
        await client.Events.Completion.WaitAsync(TimeSpan.FromSeconds(1), Ct);
        await Assert.ThrowsAsync<QmpProtocolException>(() => client.ExecuteAsync("query-y", null, null, Ct));
    }

    [Fact]
    public async Task ServerDisconnectsMidCall_PendingCallsFailWithinOneSecond_LaterCallsFailAtOnce()
    {
        await using var server = FakeQmpServer.Start();
        await using var client = await ConnectReadyAsync(server);

        var first = client.ExecuteAsync("query-a", null, TimeSpan.FromMinutes(5), Ct);
        var second = client.ExecuteAsync("query-b", null, TimeSpan.FromMinutes(5), Ct);
        await server.ReceiveAsync();
        await server.ReceiveAsync();

        var clock = Stopwatch.StartNew();
        server.CloseConnection();
        var error = await Assert.ThrowsAsync<QmpDisconnectedException>(() => first);
        await Assert.ThrowsAsync<QmpDisconnectedException>(() => second);
        var latency = clock.Elapsed;
        TestContext.Current.TestOutputHelper?.WriteLine($"disconnect → pending calls failed after {latency.TotalMilliseconds:0.0} ms");
        Assert.True(latency < TimeSpan.FromSeconds(1), $"pending calls failed after {latency}");
        Assert.Equal("QmpDisconnected", error.ErrorId);
        Assert.Contains("query-a", error.Message);
        Assert.Contains(server.SocketPath, error.Message);

        await client.Events.Completion.WaitAsync(TimeSpan.FromSeconds(1), Ct);
        clock.Restart();
        await Assert.ThrowsAsync<QmpDisconnectedException>(() => client.QueryStatusAsync(TimeSpan.FromMinutes(5), Ct));
        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(500), $"a call after disconnect took {clock.Elapsed}");
        Assert.IsType<QmpDisconnectedException>(client.ClosedReason);
    }

    [Fact]
    public async Task CancellingAPendingCall_RemovesIt_AndItsLateReplyIsDropped()
    {
        await using var server = FakeQmpServer.Start();
        await using var client = await ConnectReadyAsync(server);

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var call = client.ExecuteAsync("query-slow", null, TimeSpan.FromMinutes(5), cts.Token);
        var id = FakeQmpServer.Id(await server.ReceiveAsync());
        var clock = Stopwatch.StartNew();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1));

        await server.SendAsync($$"""{"return": {}, "id": "{{id}}"}""");
        var next = client.ExecuteAsync("query-next", null, null, Ct);
        var nextId = FakeQmpServer.Id(await server.ReceiveAsync());
        await server.SendAsync($$"""{"return": {"ok": 1}, "id": "{{nextId}}"}""");
        Assert.Equal(1, (int?)(await next)!["ok"]);
        Assert.Equal(1, client.DroppedReplyCount);
    }

    [Fact]
    public async Task NoReplyWithinTheTimeout_IsATimeoutError_AndTheConnectionStaysUsable()
    {
        await using var server = FakeQmpServer.Start();
        await using var client = await ConnectReadyAsync(server);

        var clock = Stopwatch.StartNew();
        var call = client.ExecuteAsync("query-hung", null, TimeSpan.FromMilliseconds(300), Ct);
        await server.ReceiveAsync();
        var error = await Assert.ThrowsAsync<QmpTimeoutException>(() => call);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(290), TimeSpan.FromSeconds(2));
        Assert.Equal("QmpCommandTimeout", error.ErrorId);
        Assert.Equal("query-hung", error.Command);
        Assert.Equal(ErrorKind.OperationTimeout, error.Kind);
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task ConcurrentCalls_AreWrittenWhole_AndEachGetsItsOwnReply()
    {
        await using var server = FakeQmpServer.Start();
        await using var client = await ConnectReadyAsync(server);

        var calls = Enumerable.Range(0, 32)
            .Select(i => Task.Run(() => client.ExecuteAsync("echo", new JsonObject { ["n"] = i, ["pad"] = new string('x', 1000 * i) }, null, Ct), Ct))
            .ToArray();
        var requests = new List<JsonObject>();
        for (var i = 0; i < calls.Length; i++)
        {
            requests.Add(await server.ReceiveAsync());
        }

        requests.Reverse();
        foreach (var request in requests)
        {
            await server.SendAsync($$"""{"return": {"n": {{(int)request["arguments"]!["n"]!}}}, "id": "{{FakeQmpServer.Id(request)}}"}""");
        }

        for (var i = 0; i < calls.Length; i++)
        {
            Assert.Equal(i, (int?)(await calls[i])!["n"]);
        }
    }

    [Fact]
    public async Task MalformedMessage_AfterNegotiation_IsAProtocolError()
    {
        await using var server = FakeQmpServer.Start();
        await using var client = await ConnectReadyAsync(server);

        var call = client.ExecuteAsync("query-x", null, null, Ct);
        await server.ReceiveAsync();
        await server.SendAsync("""{"return": {}, "id": """);
        var error = await Assert.ThrowsAsync<QmpProtocolException>(() => call);
        Assert.Equal("QmpMalformedMessage", error.ErrorId);
        Assert.False(client.IsConnected);
    }

    [Theory]
    [InlineData("""{"return": {}, "return": {}, "id": "vmdebug-1"}""")]
    [InlineData("""{"event": "X", "data": {"a": [{"k": 1, "k": 2}]}}""")]
    public async Task DuplicateMemberNames_AreAProtocolError_NotAReaderCrash(string message)
    {
        await using var server = FakeQmpServer.Start();
        await using var client = await ConnectReadyAsync(server);

        var call = client.ExecuteAsync("query-x", null, TimeSpan.FromSeconds(30), Ct);
        await server.ReceiveAsync();
        await server.SendAsync(message);
        var error = await Assert.ThrowsAsync<QmpProtocolException>(() => call).WaitAsync(TimeSpan.FromSeconds(1), Ct);
        Assert.Equal("QmpMalformedMessage", error.ErrorId);
    }

    [Fact]
    public async Task NoReplyToQmpCapabilities_IsANegotiationError()
    {
        await using var server = FakeQmpServer.Start();
        var connect = QmpClient.ConnectAsync(server.SocketPath, new QmpClientOptions { HandshakeTimeout = TimeSpan.FromMilliseconds(300) }, Ct);
        await server.AcceptAsync();
        await server.SendAsync(FakeQmpServer.QemuGreeting);
        await server.ReceiveAsync();

        var error = await Assert.ThrowsAsync<QmpNegotiationException>(() => connect);
        Assert.Contains("qmp_capabilities", error.Message);
    }

    [Fact]
    public async Task OversizeMessage_IsRejectedWithoutReadingItAll()
    {
        await using var server = FakeQmpServer.Start();
        await using var client = await ConnectReadyAsync(server, new QmpClientOptions { MaxMessageBytes = 4096 });

        var call = client.ExecuteAsync("query-x", null, null, Ct);
        await server.ReceiveAsync();
        await server.SendRawAsync(Encoding.ASCII.GetBytes("{\"return\": \"" + new string('A', 64 * 1024)));
        var error = await Assert.ThrowsAsync<QmpProtocolException>(() => call);
        Assert.Equal("QmpMessageTooLarge", error.ErrorId);
        Assert.Equal(ErrorKind.LimitsExceeded, error.Kind);
    }

    [Fact]
    public async Task Dispose_FailsPendingCalls_AndLaterCallsFailAtOnce()
    {
        await using var server = FakeQmpServer.Start();
        var client = await ConnectReadyAsync(server);
        var call = client.ExecuteAsync("query-x", null, TimeSpan.FromMinutes(5), Ct);
        await server.ReceiveAsync();

        await client.DisposeAsync();
        await Assert.ThrowsAsync<QmpDisconnectedException>(() => call).WaitAsync(TimeSpan.FromSeconds(1), Ct);
        await Assert.ThrowsAsync<QmpDisconnectedException>(() => client.ExecuteAsync("query-y", null, null, Ct));
        Assert.True(client.Events.Completion.IsCompleted);
    }

    [Fact]
    public async Task MalformedGreeting_IsAClearGreetingError()
    {
        await using var server = FakeQmpServer.Start();
        var connect = QmpClient.ConnectAsync(server.SocketPath, null, Ct);
        await server.AcceptAsync();
        await server.SendAsync("""{"QMP": {"capabilities": []}}""");

        var error = await Assert.ThrowsAsync<QmpGreetingException>(() => connect);
        Assert.Equal("QmpGreetingInvalid", error.ErrorId);
        Assert.Contains("did not send a QMP greeting", error.Message);
        Assert.Contains(server.SocketPath, error.Message);
        Assert.Contains("is this a QEMU QMP socket?", error.Message);
    }

    [Fact]
    public async Task StaleEventsBeforeTheGreeting_AreDroppedAndTheClientConnects()
    {
        // Seen from QEMU 7.2 in a CI run: a STOP that QEMU could not write to the client that had just left (it waited
        // for GUEST_PANICKED) reached the next client before its greeting. QEMU will not do it on demand: a scripted peer does.
        await using var server = FakeQmpServer.Start();
        var connect = QmpClient.ConnectAsync(server.SocketPath, null, Ct);
        await server.AcceptAsync();
        await server.SendAsync("""{"timestamp": {"seconds": 1796143527, "microseconds": 542367}, "event": "STOP"}""");
        await server.SendAsync(FakeQmpServer.QemuGreeting);
        Assert.Equal("qmp_capabilities", (string?)(await server.ReceiveAsync())["execute"]);
        await server.SendAsync("""{"return": {}}""");

        await using var client = await connect;
        Assert.Equal(7, client.Greeting.Version.Major);
        Assert.False(client.Events.TryRead(out var stale), $"the earlier session's {stale?.Name} reached this client's events");
    }

    [Fact]
    public async Task EndlessEventsInsteadOfAGreeting_AreAGreetingError()
    {
        await using var server = FakeQmpServer.Start();
        var connect = QmpClient.ConnectAsync(server.SocketPath, null, Ct);
        await server.AcceptAsync();
        for (var i = 0; i < 65; i++)
        {
            await server.SendAsync("""{"timestamp": {"seconds": 1, "microseconds": 0}, "event": "STOP"}""");
        }

        var error = await Assert.ThrowsAsync<QmpGreetingException>(() => connect);
        Assert.Equal("QmpGreetingInvalid", error.ErrorId);
        Assert.Contains("did not send a QMP greeting", error.Message);
    }

    [Fact]
    public async Task SilentServer_IsAGreetingTimeout()
    {
        await using var server = FakeQmpServer.Start();
        var clock = Stopwatch.StartNew();
        var connect = QmpClient.ConnectAsync(server.SocketPath, new QmpClientOptions { HandshakeTimeout = TimeSpan.FromMilliseconds(400) }, Ct);
        await server.AcceptAsync();

        var error = await Assert.ThrowsAsync<QmpGreetingException>(() => connect);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(390), TimeSpan.FromSeconds(3));
        Assert.Equal("QmpGreetingTimeout", error.ErrorId);
        Assert.Equal(ErrorKind.OperationTimeout, error.Kind);
        Assert.Contains("did not send a QMP greeting within 0.4 s", error.Message);
    }

    [Fact]
    public async Task NonQmpSocket_SshBanner_IsAClearGreetingError()
    {
        await using var server = FakeQmpServer.Start();
        var connect = QmpClient.ConnectAsync(server.SocketPath, null, Ct);
        await server.AcceptAsync();
        await server.SendRawAsync("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"u8.ToArray());

        var error = await Assert.ThrowsAsync<QmpGreetingException>(() => connect);
        Assert.Equal("QmpGreetingInvalid", error.ErrorId);
        Assert.Contains("not JSON", error.Message);
        Assert.Contains("\"SSH-2.0-OpenSSH_9.2p1 Debian-2\\r\"", error.Message);
        Assert.Contains("is this a QEMU QMP socket?", error.Message);
    }

    [Fact]
    public async Task ServerClosingBeforeTheGreeting_IsAGreetingError()
    {
        await using var server = FakeQmpServer.Start();
        var connect = QmpClient.ConnectAsync(server.SocketPath, null, Ct);
        await server.AcceptAsync();
        server.CloseConnection();

        var error = await Assert.ThrowsAsync<QmpGreetingException>(() => connect);
        Assert.Contains("closed the connection", error.Message);
    }

    [Fact]
    public async Task MissingSocket_IsAConnectErrorNamingThePath()
    {
        var path = Path.Combine(Path.GetTempPath(), $"vmdebug-missing-{Guid.NewGuid():N}.sock");
        var error = await Assert.ThrowsAsync<QmpConnectException>(() => QmpClient.ConnectAsync(path, null, Ct));
        Assert.Equal("QmpSocketNotFound", error.ErrorId);
        Assert.Equal(ErrorKind.ObjectNotFound, error.Kind);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public async Task SocketWithoutListener_AndRegularFile_AreRefusedWithTheHint()
    {
        var directory = Directory.CreateTempSubdirectory("vmdebug-qmp-");
        try
        {
            var stale = Path.Combine(directory.FullName, "stale.sock");
            // A socket file nobody listens on, like one left by a dead QEMU. Moved away before Dispose, which would unlink it.
            using (var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            {
                listener.Bind(new UnixDomainSocketEndPoint(stale + ".tmp"));
                File.Move(stale + ".tmp", stale);
            }

            Assert.True(File.Exists(stale));
            var regular = Path.Combine(directory.FullName, "not-a-socket");
            await File.WriteAllTextAsync(regular, "hello", Ct);

            foreach (var path in new[] { stale, regular })
            {
                var error = await Assert.ThrowsAsync<QmpConnectException>(() => QmpClient.ConnectAsync(path, null, Ct));
                Assert.Equal("QmpConnectionRefused", error.ErrorId);
                Assert.Contains(path, error.Message);
                Assert.Contains("is this a QEMU QMP socket?", error.Message);
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task DumpRequest_RejectsBadProtocolAndHalfARange_BeforeSending()
    {
        await using var server = FakeQmpServer.Start();
        await using var client = await ConnectReadyAsync(server);
        await Assert.ThrowsAsync<ArgumentException>(() => client.DumpGuestMemoryAsync(new DumpGuestMemoryRequest("/tmp/x"), null, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => client.DumpGuestMemoryAsync(DumpGuestMemoryRequest.ToFd("f") with { Begin = 0 }, null, Ct));
        Assert.True(await server.StaysQuietAsync(TimeSpan.FromMilliseconds(200)));
    }
}
