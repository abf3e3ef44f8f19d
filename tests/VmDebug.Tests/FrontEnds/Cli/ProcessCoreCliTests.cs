using System.Text.Json.Nodes;
using VmDebug.Engine.Guest;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.FrontEnds.Cli;

/// <summary>vmdebug cores and vmdebug dump --core-file on a real QEMU core (an isapc machine, which needs an explicit layout).</summary>
public sealed class ProcessCoreCliTests
{
    [Fact]
    public async Task CoresListsTheCoreAndDumpExtractsItWithTheGivenLayout()
    {
        ProcessCoreCapture.RequirePlainCorePattern();
        using var scratch = new TempDirectory();
        var coreDirectory = Directory.CreateDirectory(scratch.File("cores")).FullName;
        var core = await ProcessCoreCapture.AbortProgramAsync(coreDirectory, TestEnvironment.RequireTool(QemuGuest.QemuBinary, "qemu-system-x86"),
            "-machine", "isapc,accel=tcg,dump-guest-core=on", "-m", "64", "-nodefaults", "-display", "none");

        var cores = await Support.Cli.RunAsync("cores", "--path", coreDirectory, "--no-systemd", "--json");
        Assert.Equal(0, cores.ExitCode);
        var listed = JsonNode.Parse(Assert.Single(cores.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)))!;
        Assert.Equal(core, (string?)listed["path"]);
        Assert.Equal("isapc", (string?)listed["machineType"]);
        Assert.Equal(64L << 20, (long?)listed["guestRamBytes"]);
        Assert.StartsWith("ProcessCoreMachineUnknown", (string?)listed["problem"]);

        var refused = await Support.Cli.RunAsync("dump", "--core-file", core, "--output", scratch.File("vmcore"), "--json");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Equal("ProcessCoreMachineUnknown", (string?)JsonNode.Parse(refused.Stderr)!["error"]!["id"]);
        Assert.False(File.Exists(scratch.File("vmcore")));

        var dump = await Support.Cli.RunAsync("dump", "--core-file", core, "--output", scratch.File("vmcore"), "--guest-memory-layout", "pc",
            "--format", "kdump-zlib", "--json");
        Assert.True(dump.ExitCode == 0, dump.Stderr + dump.Stdout);
        var result = JsonNode.Parse(dump.Stdout)!;
        Assert.Equal("QemuProcessCore", (string?)result["source"]);
        Assert.Equal("KdumpZlib", (string?)result["format"]);
        Assert.StartsWith("KDUMP   ", System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(scratch.File("vmcore")).AsSpan(0, 8)));

        var usage = await Support.Cli.RunAsync("dump", "--core-file", core, "--socket", "/nonexistent", "--output", scratch.File("other"));
        Assert.NotEqual(0, usage.ExitCode);
        Assert.Contains("exactly one of --socket, --domain and --core-file", usage.Stderr + usage.Stdout);
    }
}
