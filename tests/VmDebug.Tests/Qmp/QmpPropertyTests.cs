using System.Text;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using VmDebug.Engine.Qmp;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Qmp;

/// <summary>Properties of the client's handling of untrusted bytes from the socket.</summary>
public class QmpPropertyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly Config Config = Config.QuickThrowOnFailure.WithMaxTest(40).WithQuietOnSuccess(true);

    [Fact]
    public Task AnyGarbageInsteadOfAGreeting_IsAGreetingError_WithAnEscapedMessage()
    {
        var garbage = Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b)).Select(bytes => bytes.Where(b => b != (byte)'\n').ToArray());
        // Blocking inside Check.One is fine on a pool thread; on xunit's context it could starve continuations.
        return Task.Run(() => Check.One(Config, Prop.ForAll(garbage.ToArbitrary(), bytes =>
        {
            var error = GreetWithAsync(bytes).GetAwaiter().GetResult();
            return error.ErrorId == "QmpGreetingInvalid"
                && error.Message.Contains("did not send a QMP greeting", StringComparison.Ordinal)
                && !error.Message.Any(char.IsControl);
        })), Ct);
    }

    private static async Task<QmpGreetingException> GreetWithAsync(byte[] bytes)
    {
        await using var server = FakeQmpServer.Start();
        var connect = QmpClient.ConnectAsync(server.SocketPath, new QmpClientOptions { HandshakeTimeout = TimeSpan.FromSeconds(5) }, Ct);
        await server.AcceptAsync();
        await server.SendRawAsync([.. bytes, (byte)'\n']);
        server.CloseConnection();
        return await Assert.ThrowsAsync<QmpGreetingException>(() => connect);
    }

    [Fact]
    public Task EventsAndReply_SplitAnywhere_ArriveWhole_AndInOrder()
    {
        var text = Gen.ArrayOf(Gen.Elements('a', 'Z', '"', '\\', '\n', '\u00e9', '\u4e2d', '{', '}', ' ')).Select(c => new string(c));
        var scenario =
            from values in Gen.ListOf(text)
            from cuts in Gen.ListOf(Gen.Choose(0, 10_000))
            select (Values: values.Take(6).ToArray(), Cuts: cuts.Take(8).ToArray());

        return Task.Run(() => Check.One(Config, Prop.ForAll(scenario.ToArbitrary(), s =>
            RoundTripAsync(s.Values, s.Cuts).GetAwaiter().GetResult())), Ct);
    }

    /// <summary>Sends one event per value and then the reply, cut at arbitrary byte offsets; checks what the client saw.</summary>
    private static async Task<bool> RoundTripAsync(string[] values, int[] cuts)
    {
        await using var server = FakeQmpServer.Start();
        var connect = QmpClient.ConnectAsync(server.SocketPath, null, Ct);
        await server.HandshakeAsync();
        await using var client = await connect;

        var call = client.ExecuteAsync("query-x", null, TimeSpan.FromSeconds(10), Ct);
        var id = FakeQmpServer.Id(await server.ReceiveAsync());
        var stream = new StringBuilder();
        for (var i = 0; i < values.Length; i++)
        {
            stream.Append(new JsonObject { ["event"] = $"E{i}", ["data"] = new JsonObject { ["v"] = values[i] }, ["timestamp"] = new JsonObject { ["seconds"] = i, ["microseconds"] = 0 } }.ToJsonString()).Append("\r\n");
        }

        stream.Append(new JsonObject { ["return"] = string.Concat(values), ["id"] = id }.ToJsonString()).Append('\n');

        var bytes = Encoding.UTF8.GetBytes(stream.ToString());
        var previous = 0;
        foreach (var cut in cuts.Select(c => c % (bytes.Length + 1)).Order().Append(bytes.Length))
        {
            if (cut <= previous)
            {
                continue;
            }

            await server.SendRawAsync(bytes[previous..cut]);
            await Task.Delay(1, Ct); // let the client read each piece separately
            previous = cut;
        }

        var result = await call;
        if ((string?)result != string.Concat(values))
        {
            return false;
        }

        for (var i = 0; i < values.Length; i++)
        {
            var e = await client.Events.ReadAsync(Ct);
            if (e.Name != $"E{i}" || (string?)e.Data?["v"] != values[i] || e.Timestamp != DateTimeOffset.FromUnixTimeSeconds(i))
            {
                return false;
            }
        }

        return client.DroppedReplyCount == 0 && client.IsConnected;
    }
}
