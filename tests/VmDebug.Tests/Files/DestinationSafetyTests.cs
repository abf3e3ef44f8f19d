using System.Text.Json.Nodes;
using VmDebug.Engine.Files;
using VmDebug.Engine.Guest;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Files;

/// <summary>
/// Destinations and inputs that are not regular files: --force refuses FIFOs, device nodes and symlinks (decided:
/// refuse, typed, rather than write through or replace them), and vmdebug cores skips them without blocking.
/// </summary>
public sealed class DestinationSafetyTests
{
    [Fact]
    public async Task ForceRefusesFifoDeviceAndSymlinkAndLeavesThemAsTheyWere()
    {
        if (TmpfsMount.GetEuid() != 0)
        {
            Assert.Skip("making a device node needs root; CI runs as root");
        }
        using var scratch = new TempDirectory();
        using var source = new SyntheticSource(SyntheticSource.SmallRanges, SyntheticSource.PlausibleVmcoreInfo);
        var input = await DumpFiles.WriteElfAsync(source, scratch.File("input.elf"));
        var victim = scratch.File("victim");
        File.WriteAllText(victim, "keep me");
        await Run("mkfifo", scratch.File("fifo"));
        await Run("mknod", scratch.File("null"), "c", "1", "3");
        File.CreateSymbolicLink(scratch.File("link"), victim);
        var before = Directory.GetFileSystemEntries(scratch.Path).Order().ToArray();

        foreach (var (name, kind) in new[] { ("fifo", "FIFO"), ("null", "character device"), ("link", "symbolic link") })
        {
            var (exit, _, stderr) = await Support.Cli.RunAsync("convert", "--input", input, "--output", scratch.File(name), "--format", "elf", "--force", "--json");
            Assert.Equal(3, exit);
            var error = JsonNode.Parse(stderr)!["error"]!;
            Assert.Equal("DumpPathNotRegularFile", (string?)error["id"]);
            Assert.Contains($"is a {kind}", (string?)error["message"]);
            Assert.Equal(scratch.File(name), (string?)error["target"]);
        }

        Assert.Equal(UnixFileStatus.Fifo, UnixFile.LStat(scratch.File("fifo"))!.Value.Type);
        Assert.Equal(UnixFileStatus.CharDevice, UnixFile.LStat(scratch.File("null"))!.Value.Type);
        Assert.Equal(victim, File.ResolveLinkTarget(scratch.File("link"), returnFinalTarget: false)!.FullName);
        Assert.Equal("keep me", File.ReadAllText(victim));
        Assert.Equal(before, Directory.GetFileSystemEntries(scratch.Path).Order().ToArray());

        // A regular file is still replaced with --force, atomically and 0600.
        var replaced = await Support.Cli.RunAsync("convert", "--input", input, "--output", victim, "--format", "elf", "--force", "--json");
        Assert.Equal(0, replaced.ExitCode);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(victim));
        Assert.Equal(before, Directory.GetFileSystemEntries(scratch.Path).Order().ToArray());
    }

    [Fact]
    public async Task CoresSkipsFifoAndDeviceAndListsTheCore()
    {
        if (TmpfsMount.GetEuid() != 0)
        {
            Assert.Skip("making a device node needs root; CI runs as root");
        }
        ProcessCoreCapture.RequirePlainCorePattern();
        using var scratch = new TempDirectory();
        var directory = Directory.CreateDirectory(scratch.File("cores")).FullName;
        var core = await ProcessCoreCapture.AbortProgramAsync(directory, TestEnvironment.RequireTool(QemuGuest.QemuBinary, "qemu-system-x86"),
            "-machine", "q35,accel=tcg,dump-guest-core=on", "-m", "64", "-nodefaults", "-display", "none");
        await Run("mkfifo", Path.Combine(directory, "core.fifo"));
        await Run("mknod", Path.Combine(directory, "core.tty"), "c", "5", "0"); // /dev/tty: opening it blocking would attach a terminal

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (exit, stdout, stderr) = await TestEnvironment.RunAsync(Support.Cli.ProgramPath, ["cores", "--path", directory, "--no-systemd", "--json"],
            timeout: TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, stderr);
        var listed = JsonNode.Parse(Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)))!;
        Assert.Equal(core, (string?)listed["path"]);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"vmdebug cores took {clock.Elapsed}");

        // Named explicitly, a FIFO is not a core either: it does not block, and like any named non-core (issue 9,
        // defect 13) it is an error naming it, not a silent skip.
        var fifoPath = Path.Combine(directory, "core.fifo");
        var fifo = await TestEnvironment.RunAsync(Support.Cli.ProgramPath, ["cores", "--path", fifoPath, "--no-systemd", "--json"],
            timeout: TimeSpan.FromSeconds(60));
        Assert.Equal(3, fifo.ExitCode);
        Assert.Equal("", fifo.Stdout.Trim());
        var error = JsonNode.Parse(fifo.Stderr.Trim())!["error"]!;
        Assert.Equal("ProcessCoreNotACore", (string?)error["id"]);
        Assert.Equal(fifoPath, (string?)error["target"]);
    }

    private static async Task Run(string tool, params string[] arguments)
    {
        var (exit, _, stderr) = await TestEnvironment.RunAsync(TestEnvironment.RequireTool(tool, "coreutils"), arguments);
        Assert.True(exit == 0, $"{tool}: {stderr}");
    }
}
