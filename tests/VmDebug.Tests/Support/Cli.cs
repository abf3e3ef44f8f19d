namespace VmDebug.Tests.Support;

/// <summary>
/// Runs the shipped vmdebug, the NativeAOT executable build.ps1 publishes to out/vmdebug/vmdebug (VMDEBUG_CLI names
/// another), the way an admin or the acceptance checks do: every CLI test proves the binary users get, not the JIT
/// assembly beside the tests.
/// </summary>
public static class Cli
{
    private static readonly Lazy<string> LazyProgramPath = new(FindProgram);

    public static string ProgramPath => LazyProgramPath.Value;

    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] arguments) =>
        TestEnvironment.RunAsync(ProgramPath, arguments, timeout: TimeSpan.FromMinutes(5));

    private static string FindProgram()
    {
        var path = Environment.GetEnvironmentVariable("VMDEBUG_CLI") is { Length: > 0 } given
            ? Path.GetFullPath(given)
            : Path.Combine(TestEnvironment.RepoRoot, "out", "vmdebug", "vmdebug");
        const string Publish = "publish it with ./build.ps1 (or: scripts/publish-cli.sh)";
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"The vmdebug executable {path} does not exist: {Publish}.");
        }

        // A binary older than the code it is compiled from would test yesterday's CLI.
        var built = File.GetLastWriteTimeUtc(path);
        var newer = SourcesOfTheCli().FirstOrDefault(source => File.GetLastWriteTimeUtc(source) > built);
        if (newer is not null && Environment.GetEnvironmentVariable("VMDEBUG_CLI") is not { Length: > 0 })
        {
            throw new InvalidOperationException($"{path} is older than {newer}: {Publish}.");
        }

        return path;
    }

    private static IEnumerable<string> SourcesOfTheCli()
    {
        var root = TestEnvironment.RepoRoot;
        foreach (var file in new[] { "Directory.Build.props", "Directory.Packages.props" })
        {
            yield return Path.Combine(root, file);
        }

        foreach (var project in new[] { "VmDebug.Cli", "VmDebug.Engine" })
        {
            var directory = Path.Combine(root, "src", project);
            foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(directory, file);
                if (!relative.StartsWith("bin/", StringComparison.Ordinal) && !relative.StartsWith("obj/", StringComparison.Ordinal)
                    && (file.EndsWith(".cs", StringComparison.Ordinal) || file.EndsWith(".csproj", StringComparison.Ordinal)))
                {
                    yield return file;
                }
            }
        }
    }
}
