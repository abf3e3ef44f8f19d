using System.Text.RegularExpressions;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Fleet;

/// <summary>contrib/vmdebug-watch.service: systemd accepts it, and the vmdebug CLI accepts its command line.</summary>
public sealed partial class ServiceUnitTests
{
    private static string Unit => File.ReadAllText(Path.Combine(TestEnvironment.RepoRoot, "contrib", "vmdebug-watch.service"));

    [Fact]
    public async Task SystemdAnalyzeVerifyAcceptsTheUnit()
    {
        var analyze = TestEnvironment.RequireTool("systemd-analyze", "systemd");
        using var directory = new TempDirectory();
        // verify checks that ExecStart's program exists: point it at the vmdebug executable the tests run.
        var unit = directory.File("vmdebug-watch.service");
        File.WriteAllText(unit, Unit.Replace("/usr/local/bin/vmdebug", Support.Cli.ProgramPath, StringComparison.Ordinal));
        var (exit, stdout, stderr) = await TestEnvironment.RunAsync(analyze, ["verify", unit]);
        Assert.True(exit == 0 && stderr.Trim().Length == 0, $"systemd-analyze verify: exit {exit}\n{stdout}{stderr}");
    }

    [Fact]
    public async Task TheUnitsCommandLineIsOneTheCliAccepts()
    {
        using var directory = new TempDirectory();
        var execStart = ExecStart().Match(Unit.Replace("\\\n", " ", StringComparison.Ordinal));
        Assert.True(execStart.Success, "no ExecStart=/usr/local/bin/vmdebug line");
        var arguments = execStart.Groups["args"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(a => a == "/var/lib/vmdebug/crashes" ? directory.File("crashes") : a == "qemu:///system" ? $"qemu:///system?socket={directory.File("none")}" : a)
            .Concat(["--timeout", "2", "--json"]).ToArray();
        var (exit, _, stderr) = await Support.Cli.RunAsync(arguments);
        Assert.True(exit == 0, $"vmdebug {string.Join(' ', arguments)}: exit {exit}\n{stderr}");
        Assert.Contains("\"kind\":\"SourceUnavailable\"", stderr, StringComparison.Ordinal); // no libvirtd at that socket: said, and retried
        Assert.True(Directory.Exists(directory.File("crashes")));
    }

    [GeneratedRegex(@"^ExecStart=/usr/local/bin/vmdebug (?<args>.+)$", RegexOptions.Multiline)]
    private static partial Regex ExecStart();
}
