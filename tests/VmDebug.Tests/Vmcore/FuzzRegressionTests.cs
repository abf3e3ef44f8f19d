using VmDebug.Tests.Support;

namespace VmDebug.Tests.Vmcore;

/// <summary>
/// Replays, through the fuzz harness's own targets, every case it once saved as failing (TestData/fuzz) and the
/// review's hostile dumps (as vmcore cases): each must now succeed or fail typed within 5 s and 256 MiB.
/// </summary>
public sealed class FuzzRegressionTests
{
    private static string Harness
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains("/bin/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
            var path = Path.Combine(TestEnvironment.RepoRoot, "tests", "VmDebug.Fuzz", "bin", configuration, "net8.0", "VmDebug.Fuzz.dll");
            Assert.True(File.Exists(path), $"{path} is missing: build VmDebug.slnx (it builds the fuzz harness too)");
            return path;
        }
    }

    [Fact]
    public async Task SavedFailingCasesAndHostileDumpsNowPass()
    {
        var saved = Path.Combine(AppContext.BaseDirectory, "Support", "TestData", "fuzz");
        var cases = Directory.GetFiles(saved, "*.bin");
        if (cases.Length > 0)
        {
            var replay = await TestEnvironment.RunAsync("dotnet", [Harness, "--replay", saved]);
            Assert.True(replay.ExitCode == 0, replay.Stdout + replay.Stderr);
            Assert.Equal(cases.Length, replay.Stdout.Split('\n').Count(l => l.EndsWith(": Succeeded", StringComparison.Ordinal) || l.EndsWith(": TypedError", StringComparison.Ordinal)));
        }

        var hostile = await TestEnvironment.RunAsync("dotnet", [Harness, "--kind", "elf-header", "--replay", HostileFileTests.HostileDirectory]);
        Assert.True(hostile.ExitCode == 0, hostile.Stdout + hostile.Stderr);
        Assert.Contains("fuzz: 5 cases", hostile.Stdout);
        Assert.Contains("0 untyped, 0 hangs, 0 over 256 MiB", hostile.Stdout);
    }
}
