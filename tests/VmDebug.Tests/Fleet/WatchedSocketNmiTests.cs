using System.Text.Json.Nodes;
using VmDebug.Engine.Fleet;
using VmDebug.Engine.Qmp;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Fleet;

/// <summary>vmdebug nmi on a QMP socket the watcher holds: QEMU answers one client per socket, and the error says so.</summary>
public sealed class WatchedSocketNmiTests
{
    [Fact]
    public async Task NmiToASocketTheWatcherHoldsSaysAnotherClientHoldsItAndWhatToDoAndSendsNothing()
    {
        var ct = TestContext.Current.CancellationToken;
        using var root = new TempDirectory("vmdebug-nmi-held-");
        var directory = Path.Combine(root.Path, "held");
        await using var guest = await WatcherRun.StartGuestAsync(directory, cancellationToken: ct);
        await using var watcher = new WatcherRun(new WatchOptions { Sockets = [guest.QmpSocketPath], ArchiveDirectory = Path.Combine(root.Path, "archive") }, ct);
        await watcher.WaitForAsync(e => e is { Kind: WatchEventKind.Watching, Guest: "held" }, TimeSpan.FromSeconds(60), "watching held");
        await WatcherRun.WaitBootedAsync(guest, ct);

        var (exit, stdout, stderr) = await Support.Cli.RunAsync("nmi", "--socket", guest.QmpSocketPath, "--json");

        Assert.Equal(10, exit); // ResourceBusy
        Assert.Equal("", stdout);
        var error = JsonNode.Parse(stderr.Trim())!["error"]!;
        Assert.Equal("QmpSocketBusy", (string?)error["id"]);
        Assert.Equal("ResourceBusy", (string?)error["kind"]);
        Assert.Equal(guest.QmpSocketPath, (string?)error["target"]);
        Assert.Contains($"Another client holds the QMP socket {guest.QmpSocketPath}", (string?)error["message"]);
        Assert.Contains("one client per QMP socket", (string?)error["message"]);
        Assert.Contains("No NMI was sent", (string?)error["message"]);
        var remedy = (string?)error["remedy"];
        Assert.Contains("--domain", remedy);
        Assert.Contains("-qmp unix:PATH,server=on,wait=off", remedy);
        Assert.Contains("vmdebug watch", remedy);

        // Nothing was sent: the guest still runs, and the watcher saw no panic.
        await using (var control = await QmpClient.ConnectAsync(WatcherRun.ControlSocket(directory), null, ct))
        {
            Assert.Equal("running", (await control.QueryStatusAsync(null, ct)).Status);
        }
        Assert.DoesNotContain(watcher.All, e => e.Kind == WatchEventKind.PanicDetected);
    }
}
