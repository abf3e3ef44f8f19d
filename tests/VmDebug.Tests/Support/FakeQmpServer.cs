using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace VmDebug.Tests.Support;

/// <summary>
/// A scripted QMP peer on a Unix socket in a temp dir, for faults real QEMU won't produce
/// (disconnect mid-call, garbage, silence, unknown ids, id-less errors).
/// </summary>
internal sealed class FakeQmpServer : IAsyncDisposable
{
    public const string QemuGreeting =
        """{"QMP": {"version": {"qemu": {"micro": 2, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg"}, "capabilities": ["oob"]}}""";

    private readonly DirectoryInfo _directory;
    private readonly Socket _listener;
    private Socket? _connection;
    private StreamReader? _reader;

    private FakeQmpServer(DirectoryInfo directory, Socket listener, string socketPath)
    {
        _directory = directory;
        _listener = listener;
        SocketPath = socketPath;
    }

    public string SocketPath { get; }

    public static FakeQmpServer Start()
    {
        var directory = Directory.CreateTempSubdirectory("vmdebug-qmp-");
        var path = Path.Combine(directory.FullName, "qmp.sock");
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(4);
        return new FakeQmpServer(directory, listener, path);
    }

    public async Task AcceptAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        _connection = await _listener.AcceptAsync(cts.Token);
        _reader = new StreamReader(new NetworkStream(_connection, ownsSocket: false), Encoding.UTF8);
    }

    public Task SendAsync(string line) => SendRawAsync(Encoding.UTF8.GetBytes(line + "\r\n"));

    public async Task SendRawAsync(byte[] bytes)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _connection!.SendAsync(bytes, SocketFlags.None, cts.Token);
    }

    /// <summary>The next line the client sent, parsed; fails the test if none arrives in time.</summary>
    public async Task<JsonObject> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var line = await _reader!.ReadLineAsync(cts.Token);
        Assert.NotNull(line);
        return Assert.IsType<JsonObject>(JsonNode.Parse(line));
    }

    /// <summary>True if the client sends nothing for <paramref name="wait"/>.</summary>
    public async Task<bool> StaysQuietAsync(TimeSpan wait)
    {
        using var cts = new CancellationTokenSource(wait);
        try
        {
            await _reader!.ReadLineAsync(cts.Token);
            return false;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    /// <summary>Accept, greet, answer qmp_capabilities: the client is then ready.</summary>
    public async Task HandshakeAsync()
    {
        await AcceptAsync();
        await SendAsync(QemuGreeting);
        var negotiation = await ReceiveAsync();
        Assert.Equal("qmp_capabilities", (string?)negotiation["execute"]);
        await SendAsync("""{"return": {}}""");
    }

    public static string Id(JsonObject request) => (string?)request["id"] ?? throw new InvalidOperationException("request has no id");

    public void CloseConnection()
    {
        _connection?.Shutdown(SocketShutdown.Both);
        _connection?.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        _connection?.Dispose();
        _listener.Dispose();
        _directory.Delete(recursive: true);
        return ValueTask.CompletedTask;
    }
}
