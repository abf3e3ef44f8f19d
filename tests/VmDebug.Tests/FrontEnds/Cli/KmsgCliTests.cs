using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using VmDebug.Engine.Guest;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.FrontEnds.Cli;

/// <summary>vmdebug kmsg end to end: the built CLI against a real QEMU guest, and against a test playing the VMM.</summary>
public sealed class KmsgCliTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("vmdebug-kmsg-cli-");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void Log(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public async Task JsonCountReadsTheFirstRecordsOfARealGuestAndExits()
    {
        await using var guest = await QemuGuest.StartAsync(TestEnvironment.Guest,
            new GuestLaunchOptions { KmsgPort = true, MemoryMiB = 256 }, cancellationToken: Ct);
        var clock = Stopwatch.StartNew();
        var result = await Support.Cli.RunAsync("kmsg", "--chardev", guest.KmsgSocketPath, "--count", "5", "--json");
        Log($"--count 5 exited {result.ExitCode} after {clock.ElapsedMilliseconds} ms");
        Assert.True(result.ExitCode == 0, result.Stderr);
        var records = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonNode.Parse(line)!).ToList();
        Assert.Equal([0UL, 1, 2, 3, 4], records.Select(r => (ulong)r["sequence"]!));
        Assert.StartsWith("Linux version ", (string?)records[0]["message"]);
        Assert.Equal("Kern", (string?)records[0]["facility"]);
        Assert.Equal(guest.KmsgSocketPath, (string?)records[0]["guest"]);
        Assert.Equal(0m, (decimal)records[0]["sinceBoot"]!);
        // Events go to stderr, as JSON with --json.
        Assert.Equal("Connected", (string?)JsonNode.Parse(result.Stderr.Split('\n')[0])!["event"]!["kind"]);
    }

    [Fact]
    public async Task JsonStreamsARealGuestsLogLineByLineUntilCtrlC()
    {
        const int Markers = 5;
        await using var guest = await QemuGuest.StartAsync(TestEnvironment.Guest,
            new GuestLaunchOptions { KmsgPort = true, Markers = Markers, MarkerLevel = 3, MemoryMiB = 256 }, cancellationToken: Ct);
        var clock = Stopwatch.StartNew();
        await using var cli = LiveCli.Start("kmsg", "--chardev", guest.KmsgSocketPath, "--json");

        // Lines are read while the CLI runs: each record is flushed as it arrives, not at exit.
        var records = new List<JsonNode>();
        while (records.Count == 0 || (string?)records[^1]["message"] != $"vmdebug marker {Markers}")
        {
            var line = await cli.ReadLineAsync(Patience, Ct);
            Assert.True(line is not null, $"stdout ended early; stderr: {cli.Stderr}; console: {guest.ReadConsole()}");
            records.Add(JsonNode.Parse(line)!);
        }

        var lastMarker = clock.Elapsed;
        Assert.False(cli.HasExited, "the stream must go on until Ctrl+C");
        clock.Restart();
        cli.Interrupt();
        var exitCode = await cli.WaitForExitAsync(TimeSpan.FromSeconds(10), Ct);
        Log($"{records.Count} records, last marker {lastMarker.TotalSeconds:0.00} s after start; exit {exitCode} {clock.ElapsedMilliseconds} ms after SIGINT");
        Assert.Equal(130, exitCode);

        Assert.Equal(0UL, (ulong)records[0]["sequence"]!);
        Assert.StartsWith("Linux version ", (string?)records[0]["message"]);
        var sequences = records.Select(r => (ulong)r["sequence"]!).ToList();
        Assert.True(sequences.Zip(sequences.Skip(1)).All(pair => pair.Second > pair.First), "sequence numbers must increase");
        var markers = records.Where(r => ((string?)r["message"])!.StartsWith("vmdebug marker ", StringComparison.Ordinal)).ToList();
        Assert.Equal(Enumerable.Range(1, Markers).Select(i => $"vmdebug marker {i}"), markers.Select(m => (string?)m["message"]));
        Assert.All(markers, m => Assert.Equal("Err", (string?)m["level"]));
        Assert.All(markers, m => Assert.Equal("User", (string?)m["facility"]));
    }

    [Fact]
    public async Task HumanLinesAreDmesgLikeWithGuestEscapesDefused()
    {
        var uds = Path.Combine(_directory.FullName, "v.sock");
        await using var cli = LiveCli.Start("kmsg", "--hybrid-vsock", uds, "--port", "7", "--count", "3", "--min-level", "warn");
        using var vmm = await ConnectWhenListening(uds + "_7");

        // Raw ESC and the kernel's \x1b escape both decode to ESC; neither may reach the terminal.
        await vmm.SendAsync("3,0,1234567,-;raw \u001b[31mred\u001b[0m\n"u8.ToArray(), Ct);
        Assert.Equal("[    1.234567] err    raw \\x1b[31mred\\x1b[0m", await cli.ReadLineAsync(Patience, Ct));
        await vmm.SendAsync("6,1,1300000,-;info is below --min-level\n4,2,1400000,-;escaped \\x1b]0;title\\x07\n"u8.ToArray(), Ct);
        Assert.Equal("[    1.400000] warn   escaped \\x1b]0;title\\x07", await cli.ReadLineAsync(Patience, Ct));
        await vmm.SendAsync("0,3,98765432100,-;panic soon\n"u8.ToArray(), Ct);
        Assert.Equal("[98765.432100] emerg  panic soon", await cli.ReadLineAsync(Patience, Ct));

        Assert.Equal(0, await cli.WaitForExitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Null(await cli.ReadLineAsync(Patience, Ct));
        Assert.False(File.Exists(uds + "_7"), "the listening socket file must be removed");
        Assert.DoesNotContain('\u001b', cli.Stderr);
    }

    [Fact]
    public async Task JsonKeepsTheDecodedTextWithControlCharactersEscapedByJson()
    {
        var uds = Path.Combine(_directory.FullName, "v.sock");
        await using var cli = LiveCli.Start("kmsg", "--hybrid-vsock", uds, "--port", "8", "--count", "1", "--json");
        using var vmm = await ConnectWhenListening(uds + "_8");
        await vmm.SendAsync("14,42,5,-,caller=T7;a\\x1bb \u00e9\\xc2\\x9b\n DEVICE=+virtio:virtio1\n"u8.ToArray(), Ct);

        var line = await cli.ReadLineAsync(Patience, Ct);
        Assert.NotNull(line);
        Assert.DoesNotContain(line, c => char.IsControl(c));
        var record = JsonNode.Parse(line)!;
        Assert.Equal("a\u001bb \u00e9\u009b", (string?)record["message"]);
        Assert.Equal("a\\x1bb \u00e9\\xc2\\x9b", (string?)record["rawMessage"]);
        Assert.Equal(("Info", "User", "T7", 42UL), ((string?)record["level"], (string?)record["facility"], (string?)record["caller"], (ulong)record["sequence"]!));
        Assert.Equal("+virtio:virtio1", (string?)record["fields"]!["DEVICE"]);
        Assert.Equal(0.000005m, (decimal)record["sinceBoot"]!);
        Assert.Equal(0, await cli.WaitForExitAsync(TimeSpan.FromSeconds(10), Ct));
    }

    [Fact]
    public async Task CtrlCClosesTheGuestConnectionAndTheListeningSocket()
    {
        var uds = Path.Combine(_directory.FullName, "v.sock");
        await using var cli = LiveCli.Start("kmsg", "--hybrid-vsock", uds, "--port", "9");
        using var vmm = await ConnectWhenListening(uds + "_9");
        await vmm.SendAsync("6,0,1,-;hello\n"u8.ToArray(), Ct);
        Assert.EndsWith("hello", await cli.ReadLineAsync(Patience, Ct));

        var clock = Stopwatch.StartNew();
        cli.Interrupt();
        Assert.Equal(130, await cli.WaitForExitAsync(TimeSpan.FromSeconds(10), Ct));
        Log($"exit {clock.ElapsedMilliseconds} ms after SIGINT");
        Assert.False(File.Exists(uds + "_9"), "the listening socket file must be removed");
        // The guest's side sees the connection closed: end of stream, not a hang.
        var buffer = new byte[16];
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        wait.CancelAfter(TimeSpan.FromSeconds(5));
        Assert.Equal(0, await vmm.ReceiveAsync(buffer, wait.Token));
        Assert.DoesNotContain("Cancelled", cli.Stderr);
    }

    [Theory]
    [InlineData("two transports", "Give only one transport, not --vsock-port and --chardev", "--chardev", "/run/k.sock", "--vsock-port", "7000")]
    [InlineData("none", "Give one transport", "--count", "3")]
    [InlineData("hybrid without port", "--hybrid-vsock needs --port", "--hybrid-vsock", "/run/v.sock")]
    [InlineData("port with chardev", "--port applies only to --hybrid-vsock and --domain", "--chardev", "/run/k.sock", "--port", "3")]
    [InlineData("cid without vsock", "--cid applies only to --vsock-port", "--domain", "web1", "--cid", "3")]
    [InlineData("bad level", "'loud' is not a log level", "--chardev", "/run/k.sock", "--min-level", "loud")]
    [InlineData("zero count", "--count must be positive", "--chardev", "/run/k.sock", "--count", "0")]
    public async Task UsageErrorsExitWithTwoAndSayWhatIsWrong(string why, string message, params string[] arguments)
    {
        var result = await Support.Cli.RunAsync(["kmsg", .. arguments]);
        Assert.True(result.ExitCode == 2, $"{why}: exit {result.ExitCode}, stderr {result.Stderr}");
        Assert.Contains(message, result.Stderr);
        Assert.Equal("", result.Stdout);

        var json = await Support.Cli.RunAsync(["kmsg", .. arguments, "--json"]);
        Assert.Equal(2, json.ExitCode);
        var error = JsonNode.Parse(json.Stderr.Split('\n')[0])!["error"]!;
        Assert.Equal("UsageError", (string?)error["id"]);
        Assert.Contains(message, (string?)error["message"]);
    }

    [Fact]
    public async Task VsockListenerEndsAtTimeoutAndReportsAPortInUse()
    {
        var port = Kmsg.VsockListenerTests.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var clock = Stopwatch.StartNew();
        var idle = await Support.Cli.RunAsync("kmsg", "--vsock-port", port, "--cid", "3", "4", "--timeout", "1");
        Log($"--timeout 1 exited {idle.ExitCode} after {clock.ElapsedMilliseconds} ms");
        Assert.True(idle.ExitCode == 0, idle.Stderr);
        Assert.Contains($"vsock port {port}", idle.Stderr);
        Assert.Equal("", idle.Stdout);

        var holder = Kmsg.VsockListenerTests.OpenBound(uint.Parse(port, System.Globalization.CultureInfo.InvariantCulture));
        try
        {
            var busy = await Support.Cli.RunAsync("kmsg", "--vsock-port", port, "--json");
            Assert.Equal(10, busy.ExitCode);
            Assert.Equal("VsockPortInUse", (string?)JsonNode.Parse(busy.Stderr.Trim())!["error"]!["id"]);
        }
        finally
        {
            Engine.Native.VsockNative.Close(holder);
        }
    }

    [Fact]
    public async Task MissingChardevSocketIsObjectNotFound()
    {
        var path = Path.Combine(_directory.FullName, "absent.sock");
        var result = await Support.Cli.RunAsync("kmsg", "--chardev", path, "--json");
        Assert.Equal(4, result.ExitCode);
        var error = JsonNode.Parse(result.Stderr.Trim())!["error"]!;
        Assert.Equal("KmsgSocketNotFound", (string?)error["id"]);
        Assert.Contains(path, (string?)error["message"]);
    }

    private static Task<Socket> ConnectWhenListening(string path) => Support.UnixSockets.ConnectWhenListeningAsync(path, Patience, Ct);
}
