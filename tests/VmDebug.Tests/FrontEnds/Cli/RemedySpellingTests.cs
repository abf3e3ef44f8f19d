using System.Text.Json.Nodes;
using VmDebug.Engine.Guest;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.FrontEnds.Cli;

/// <summary>
/// One fault, two front ends: the engine's remedy is data, so the CLI names its option (--guest-memory-layout) and
/// never the cmdlet's parameter; tests/pester/Invoke-GuestMemoryDump.Tests.ps1 proves the converse for the cmdlet.
/// </summary>
public sealed class RemedySpellingTests
{
    [Fact]
    public async Task AMissingGuestMemoryLayoutIsNamedAsTheCliSpellsIt()
    {
        ProcessCoreCapture.RequirePlainCorePattern();
        using var scratch = new TempDirectory();
        // isapc: a real machine type with no layout rule, so the core does not settle the layout by itself.
        var core = await ProcessCoreCapture.AbortProgramAsync(scratch.Path, TestEnvironment.RequireTool(QemuGuest.QemuBinary, "qemu-system-x86"),
            "-machine", "isapc,accel=tcg,dump-guest-core=on", "-m", "64", "-nodefaults", "-display", "none");

        var text = await Support.Cli.RunAsync("dump", "--core-file", core, "--output", scratch.File("vmcore"));
        var json = await Support.Cli.RunAsync("dump", "--core-file", core, "--output", scratch.File("vmcore"), "--json");

        Assert.NotEqual(0, text.ExitCode);
        Assert.Contains("Give --guest-memory-layout ", text.Stderr);
        Assert.DoesNotContain("-GuestMemoryLayout", text.Stderr);
        var error = JsonNode.Parse(json.Stderr)!["error"]!;
        Assert.Equal("ProcessCoreMachineUnknown", (string?)error["id"]);
        Assert.StartsWith("Give --guest-memory-layout ", (string?)error["remedy"]);
        // The message stays neutral: it names the fault, the remedy alone names the option.
        Assert.DoesNotContain("guest-memory-layout", (string?)error["message"], StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("GuestMemoryLayout", (string?)error["message"], StringComparison.OrdinalIgnoreCase);
        Assert.False(File.Exists(scratch.File("vmcore")));
    }
}
