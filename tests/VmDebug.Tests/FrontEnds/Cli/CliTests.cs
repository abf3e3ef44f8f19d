using System.Text.Json.Nodes;
using VmDebug.Engine.Guest;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.FrontEnds.Cli;

public sealed class CliTests
{
    [Fact]
    public async Task VersionAndHelpWork()
    {
        var version = await Support.Cli.RunAsync("--version");
        Assert.Equal(0, version.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", version.Stdout.Trim());

        var help = await Support.Cli.RunAsync("--help");
        Assert.Equal(0, help.ExitCode);
        foreach (var command in new[] { "demo", "coredump", "panic-device", "qmp", "wait-panic" })
        {
            Assert.Contains(command, help.Stdout);
        }
    }

    /// <summary>
    /// A run that names a subcommand builds only that one (start-up): each must still be reachable by its catalog
    /// name, its help must still work, and --help must still list every one.
    /// </summary>
    [Fact]
    public async Task EverySubcommandIsBuiltByItsNameAndListedInHelp()
    {
        var help = await Support.Cli.RunAsync("--help");
        Assert.Equal(0, help.ExitCode);
        foreach (var name in VmDebug.Cli.Commands.CommandCatalog.Names)
        {
            Assert.Matches($@"(?m)^\s+{System.Text.RegularExpressions.Regex.Escape(name)}\b", help.Stdout);

            var own = await Support.Cli.RunAsync(name, "--help");
            Assert.True(own.ExitCode == 0, $"vmdebug {name} --help: exit {own.ExitCode}\n{own.Stderr}");
            Assert.Contains($"vmdebug {name}", own.Stdout);

            // Built alone, the subcommand still refuses an unknown option as a usage error naming itself.
            var wrong = await Support.Cli.RunAsync(name, "--no-such-option");
            Assert.Equal(2, wrong.ExitCode);
            Assert.Contains("--no-such-option", wrong.Stderr);
            Assert.Contains($"Run 'vmdebug {name} --help' for usage.", wrong.Stderr);
        }
    }

    [Fact]
    public async Task AnErrorsRemedyIsSpelledAsTheCliTakesIt()
    {
        using var directory = new TempDirectory();
        var existing = directory.File("taken.kdump");
        File.WriteAllText(existing, "keep");

        var text = await Support.Cli.RunAsync("convert", "--input", directory.File("in.elf"), "--output", existing);
        var json = await Support.Cli.RunAsync("convert", "--input", directory.File("in.elf"), "--output", existing, "--json");

        Assert.Equal(5, text.ExitCode);
        Assert.Contains("Use --force to replace it.", text.Stderr);
        Assert.DoesNotContain("-Force", text.Stderr);
        var error = JsonNode.Parse(json.Stderr)!["error"]!;
        Assert.Equal("DumpFileExists", (string?)error["id"]);
        Assert.Equal("Use --force to replace it.", (string?)error["remedy"]);
        Assert.DoesNotContain("force", (string?)error["message"], StringComparison.OrdinalIgnoreCase);
        Assert.Equal("keep", File.ReadAllText(existing));
    }

    /// <summary>
    /// Progress is drawn only for a person watching stderr, and whether one is is asked at the first report (so a
    /// command that reports nothing never queries the terminal). A pseudo-terminal from script(1) is the watcher.
    /// </summary>
    [Fact]
    public async Task ProgressIsDrawnOnATerminalAndNotIntoARedirectedStderr()
    {
        using var directory = new TempDirectory();
        using var source = new SyntheticSource(SyntheticSource.SmallRanges, SyntheticSource.PlausibleVmcoreInfo);
        var input = await DumpFiles.WriteElfAsync(source, directory.File("in.elf"));

        var redirected = await Support.Cli.RunAsync("convert", "--input", input, "--output", directory.File("redirected.kdump"));
        Assert.Equal(0, redirected.ExitCode);
        Assert.Equal("", redirected.Stderr);

        var command = string.Join(' ', new[] { Support.Cli.ProgramPath, "convert", "--input", input, "--output", directory.File("watched.kdump") }
            .Select(word => "'" + word.Replace("'", "'\\''") + "'"));
        var watched = await TestEnvironment.RunAsync("script", ["--quiet", "--return", "--command", command, "/dev/null"], timeout: TimeSpan.FromMinutes(2));
        Assert.True(watched.ExitCode == 0, $"script: exit {watched.ExitCode}\n{watched.Stdout}{watched.Stderr}");
        Assert.Contains("\r\u001b[K", watched.Stdout);
        Assert.Contains("Writing kdump", watched.Stdout);
    }

    [Fact]
    public async Task QmpPrintsQemusJsonResponseAndWaitPanicPrintsTheEvent()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var guest = await QemuGuest.StartAsync(TestEnvironment.Guest, new GuestLaunchOptions { PanicAfterSeconds = 0 }, cancellationToken: ct);

        var status = await Support.Cli.RunAsync("qmp", "--socket", guest.QmpSocketPath, "--execute", "query-status");
        Assert.Equal(0, status.ExitCode);
        var reply = JsonNode.Parse(status.Stdout)!;
        Assert.NotNull(reply["return"]!["status"]);

        var capability = await Support.Cli.RunAsync("qmp", "--socket", guest.QmpSocketPath, "--execute", "query-dump-guest-memory-capability");
        Assert.Contains("elf", JsonNode.Parse(capability.Stdout)!["return"]!["formats"]!.AsArray().Select(f => (string?)f));

        var panic = await Support.Cli.RunAsync("wait-panic", "--socket", guest.QmpSocketPath, "--timeout", "90", "--json");
        Assert.Equal(0, panic.ExitCode);
        var panicEvent = JsonNode.Parse(panic.Stdout)!;
        Assert.Equal("Panicked", (string?)panicEvent["kind"]);
        Assert.Equal("pause", (string?)panicEvent["action"]);
    }

    [Fact]
    public async Task QmpErrorsAreJsonOnStderrWithAStableExitCode()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var guest = await QemuGuest.StartAsync(TestEnvironment.Guest, new GuestLaunchOptions { MemoryMiB = 128 }, cancellationToken: ct);

        var unknown = await Support.Cli.RunAsync("qmp", "--socket", guest.QmpSocketPath, "--execute", "no-such-command");
        Assert.NotEqual(0, unknown.ExitCode);
        var error = JsonNode.Parse(unknown.Stderr)!["error"]!;
        Assert.Contains("CommandNotFound", (string?)error["message"]);

        var badArguments = await Support.Cli.RunAsync("qmp", "--socket", guest.QmpSocketPath, "--execute", "stop", "--arguments", "[1,2");
        Assert.Equal(3, badArguments.ExitCode);
        Assert.Equal("QmpArgumentsInvalid", (string?)JsonNode.Parse(badArguments.Stderr)!["error"]!["id"]);
    }

    [Fact]
    public async Task MissingSocketNamesThePath()
    {
        var path = Path.Combine(Path.GetTempPath(), "vmdebug-no-such-socket-" + Guid.NewGuid().ToString("N"));
        var result = await Support.Cli.RunAsync("wait-panic", "--socket", path);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(path, result.Stderr);
    }

    [Fact]
    public async Task DumpWritesAFileMakedumpfileReadsAndRefusesToOverwrite()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var guest = await QemuGuest.StartAsync(TestEnvironment.Guest, new GuestLaunchOptions { PanicAfterSeconds = 0, Markers = 2 }, cancellationToken: ct);
        await VmDebug.Engine.Panic.GuestPanicWatcher.WaitAsync(guest.QmpSocketPath, TimeSpan.FromSeconds(90), ct);
        using var directory = new TempDirectory();
        var output = directory.File("vmcore");

        var dump = await Support.Cli.RunAsync("dump", "--socket", guest.QmpSocketPath, "--format", "kdump-zlib", "--output", output, "--json");
        Assert.True(dump.ExitCode == 0, dump.Stderr);
        var result = JsonNode.Parse(dump.Stdout)!;
        Assert.Equal(output, (string?)result["path"]);
        // VmDebug writes the kdump file itself from QEMU's stream, so QEMU's kdump bugs (phys_base) need no repair.
        Assert.Empty(result["repairs"]!.AsArray());
        Assert.NotNull((long?)result["physBase"]);
        Assert.Contains("vmdebug marker 2", await PeerTools.MakedumpfileDmesgAsync(output));

        var again = await Support.Cli.RunAsync("dump", "--socket", guest.QmpSocketPath, "--format", "elf", "--output", output);
        Assert.Equal(5, again.ExitCode);
        Assert.Contains("already exists", again.Stderr);

        var both = await Support.Cli.RunAsync("dump", "--socket", guest.QmpSocketPath, "--domain", "x", "--output", output);
        Assert.Equal(2, both.ExitCode);
    }

    [Fact]
    public async Task DemoBootsTheGuestAndReportsItsPanic()
    {
        _ = TestEnvironment.Guest;
        var demo = await Support.Cli.RunAsync("demo", "--json");
        Assert.True(demo.ExitCode == 0, demo.Stderr);
        var report = JsonNode.Parse(demo.Stdout)!;
        Assert.Equal("Panicked", (string?)report["panic"]!["kind"]);
        Assert.StartsWith("6.", (string?)report["kernelRelease"]);
        var dumpPath = (string)report["dump"]!["path"]!;
        try
        {
            Assert.Equal("KdumpZlib", (string?)report["dump"]!["format"]);
            Assert.Equal((string?)report["kernelRelease"], (string?)report["dump"]!["kernelRelease"]);
            var dmesg = await PeerTools.MakedumpfileDmesgAsync(dumpPath);
            Assert.Contains("vmdebug marker 3", dmesg);
            Assert.Contains("Kernel panic - not syncing", dmesg);
            // The demo itself says why the guest died, read from the dump: the same panic and task as the log.
            Assert.Contains($"Kernel panic - not syncing: {(string?)report["panicMessage"]}\n", dmesg);
            Assert.Equal("CPU 0 PID 1 init", (string?)report["crashingTask"]);
            Assert.Contains("panic+", string.Join(' ', report["callTrace"]!.AsArray().Select(f => (string?)f)));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(dumpPath)!, recursive: true);
        }
    }
}
