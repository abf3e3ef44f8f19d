using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using VmDebug.Tests.Support;

namespace VmDebug.Tests;

/// <summary>
/// DEVELOPERS.md tells a newcomer which room is theirs: every engine folder must be named there, and the tests mirror
/// those rooms (front ends in FrontEnds/, fixtures and helpers only in Support/).
/// </summary>
public partial class EngineLayoutTests
{
    private const string FrontEnds = "FrontEnds", Support = "Support", TestData = "TestData";
    private static readonly string[] FrontEndFolders = ["Cli", "Module"];

    private static string TestsRoot => Path.Combine(TestEnvironment.RepoRoot, "tests", "VmDebug.Tests");

    private static List<string> EngineFolders() =>
        Directory.GetDirectories(Path.Combine(TestEnvironment.RepoRoot, "src", "VmDebug.Engine"))
            .Select(path => Path.GetFileName(path)!)
            .Where(name => name is not ("bin" or "obj"))
            .ToList();

    [Fact]
    public void DevelopersGuideNamesEveryEngineFolder()
    {
        var guide = File.ReadAllText(Path.Combine(TestEnvironment.RepoRoot, "DEVELOPERS.md"));
        var folders = EngineFolders();
        Assert.NotEmpty(folders);
        Assert.All(folders, name => Assert.Contains($"`{name}/`", guide, StringComparison.Ordinal));
    }

    [Fact]
    public void TestFoldersAreEngineFoldersFrontEndsOrSupport()
    {
        var allowed = EngineFolders().Append(FrontEnds).Append(Support).ToHashSet(StringComparer.Ordinal);
        var misplaced = new List<string>();
        foreach (var folder in Directory.GetDirectories(TestsRoot).Select(path => Path.GetFileName(path)!).Where(name => name is not ("bin" or "obj")))
        {
            if (!allowed.Contains(folder))
            {
                misplaced.Add($"{folder}/ is no engine folder, {FrontEnds}/ or {Support}/");
                continue;
            }
            foreach (var inner in Directory.GetDirectories(Path.Combine(TestsRoot, folder)).Select(path => Path.GetFileName(path)!))
            {
                var frontEnd = folder == FrontEnds && FrontEndFolders.Contains(inner);
                if (!frontEnd && inner != TestData)
                {
                    misplaced.Add($"{folder}/{inner}/ is neither a front end nor {TestData}/");
                }
            }
        }
        var codeInTestData = Directory.GetFiles(TestsRoot, "*.cs", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(TestsRoot, path))
            .Where(path => path.Split('/').Contains(TestData));
        Assert.Empty(misplaced.Concat(codeInTestData));
    }

    [Fact]
    public void EachSourceFileIsInTheNamespaceOfItsFolder()
    {
        var wrong = new List<string>();
        foreach (var path in Directory.GetFiles(TestsRoot, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(TestsRoot, path);
            if (relative.StartsWith("bin/", StringComparison.Ordinal) || relative.StartsWith("obj/", StringComparison.Ordinal))
            {
                continue;
            }
            var folder = Path.GetDirectoryName(relative)!;
            var expected = folder.Length == 0 ? "VmDebug.Tests" : "VmDebug.Tests." + folder.Replace('/', '.');
            var declared = FileScopedNamespace().Match(File.ReadAllText(path)).Groups[1].Value;
            if (declared != expected)
            {
                wrong.Add($"{relative}: namespace {declared}, expected {expected}");
            }
        }
        Assert.Empty(wrong);
    }

    [Fact]
    public void TestClassesLiveOutsideSupportAndEveryOtherTypeInIt()
    {
        var types = typeof(EngineLayoutTests).Assembly.GetTypes()
            .Where(type => type.DeclaringType is null && type.Namespace?.StartsWith("VmDebug.Tests", StringComparison.Ordinal) == true)
            .Where(type => !IsGenerated(type))
            .ToList();
        Assert.NotEmpty(types);
        var supportNamespace = $"VmDebug.Tests.{Support}";
        var testClassesInSupport = types.Where(type => type.Namespace == supportNamespace && HasTests(type))
            .Select(type => $"{type.FullName} is a test class in {Support}/");
        var helpersOutsideSupport = types.Where(type => type.Namespace != supportNamespace && !HasTests(type))
            .Select(type => $"{type.FullName} holds no tests: move it to {Support}/ or nest it in the test class that uses it");
        var twins = types.Where(HasTests).GroupBy(type => type.Name).Where(group => group.Count() > 1)
            .Select(group => $"{group.Key} names {group.Count()} test classes");
        Assert.Empty(testClassesInSupport.Concat(helpersOutsideSupport).Concat(twins));
    }

    private static bool HasTests(Type type) =>
        type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static)
            .Any(method => method.IsDefined(typeof(FactAttribute), inherit: true));

    // The test SDKs add an entry point and their extension hooks, and the compiler its closures and regex helpers.
    private static bool IsGenerated(Type type) =>
        type.Name.Contains('<', StringComparison.Ordinal)
        || type.IsDefined(typeof(CompilerGeneratedAttribute), inherit: false)
        || type.IsDefined(typeof(ExcludeFromCodeCoverageAttribute), inherit: false);

    [GeneratedRegex(@"^namespace ([A-Za-z0-9_.]+);", RegexOptions.Multiline)]
    private static partial Regex FileScopedNamespace();
}
