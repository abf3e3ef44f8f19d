using VmDebug.Tests.Support;

namespace VmDebug.Tests;

/// <summary>DEVELOPERS.md tells a newcomer which room is theirs: every engine folder must be named there.</summary>
public class EngineLayoutTests
{
    [Fact]
    public void DevelopersGuideNamesEveryEngineFolder()
    {
        var guide = File.ReadAllText(Path.Combine(TestEnvironment.RepoRoot, "DEVELOPERS.md"));
        var folders = Directory.GetDirectories(Path.Combine(TestEnvironment.RepoRoot, "src", "VmDebug.Engine"))
            .Select(Path.GetFileName)
            .Where(name => name is not ("bin" or "obj"))
            .ToList();
        Assert.NotEmpty(folders);
        Assert.All(folders, name => Assert.Contains($"`{name}/`", guide, StringComparison.Ordinal));
    }
}
