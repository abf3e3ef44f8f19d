using System.Net.Sockets;
using VmDebug.Cli;
using VmDebug.Cli.Commands;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.FrontEnds.Cli;

/// <summary>Which runs turn signals into cancellation, and that a live read hung up on cleans up and exits as cancelled.</summary>
public sealed class CliSignalTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("vmdebug-cli-signals-");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Delete(recursive: true);

    [Theory]
    [InlineData(false, "log", "--input", "vmcore")]
    [InlineData(false, "log", "--core-file", "core", "--tail", "5")]
    [InlineData(false, "crash-info", "--input", "vmcore", "--json")]
    [InlineData(false, "pstore", "--core-file", "core")]
    [InlineData(true, "log", "--socket", "qmp.sock")]
    [InlineData(true, "crash-info", "--domain", "guest")]
    [InlineData(true, "pstore", "--socket", "qmp.sock", "--pause")]
    [InlineData(true, "dump", "--socket", "qmp.sock", "--output", "vmcore")]
    [InlineData(true, "convert", "--input", "vmcore", "--output", "vmcore.kdump")]
    [InlineData(true, "watch")]
    public void OnlyARunThatReadsADumpOrCoreKeepsTheSignalsDefaultAction(bool handled, params string[] args)
    {
        var parse = CommandCatalog.RootFor(args).Parse(args);
        Assert.Equal(handled, CliSignals.AreNeededBy(parse));
    }

    /// <summary>
    /// A live read may hold a paused guest: SIGHUP (the ssh session closed) cancels it, and it exits as cancelled
    /// (130) rather than dying of the signal (129).
    /// </summary>
    [Fact]
    public async Task ALiveReadHungUpOnExitsAsCancelled()
    {
        var path = Path.Combine(_directory.FullName, "qmp.sock");
        using var qemu = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        qemu.Bind(new UnixDomainSocketEndPoint(path));
        qemu.Listen();
        await using var cli = LiveCli.Start("log", "--socket", path, "--pause");
        using var connection = await qemu.AcceptAsync(Ct); // and never greets: the CLI waits for QEMU's greeting

        cli.Signal(SigHup);
        Assert.Equal(130, await cli.WaitForExitAsync(TimeSpan.FromSeconds(10), Ct));
    }

    private const int SigHup = 1;
}
