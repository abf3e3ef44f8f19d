using FsCheck;
using FsCheck.Fluent;
using VmDebug.Engine;
using VmDebug.Tests.Support;

namespace VmDebug.Tests;

public class UnifiedDiffTests
{
    /// <summary>GNU patch, an independent reader of unified diffs, turns the old text into the new one.</summary>
    [Fact]
    public void PatchAppliesEveryDiffExactly()
    {
        using var host = new TestHost();
        var lines = Gen.ListOf(Gen.Elements("a", "b", "c", "d", "", "x = 1", "# c")).Select(l => l.ToArray());
        var pair = lines.SelectMany(a => lines.Select(b => (Old: a, New: b)));
        var n = 0;
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(40), Prop.ForAll(pair.ToArbitrary(), p =>
        {
            var oldText = string.Concat(p.Old.Select(l => l + "\n"));
            var newText = string.Concat(p.New.Select(l => l + "\n"));
            var diff = UnifiedDiff.Create(oldText, newText, "old", "new");
            Assert.Equal(oldText == newText, diff.Length == 0);
            if (diff.Length == 0)
            {
                return;
            }

            var i = n++;
            var oldFile = host.Write($"o{i}", oldText);
            var diffFile = host.Write($"d{i}", diff);
            var output = Path.Combine(host.Root, $"r{i}");
            var (code, stdout, stderr) = TestHost.Run("patch", "--quiet", "-o", output, oldFile, diffFile);
            Assert.True(code == 0, stdout + stderr + diff);
            Assert.Equal(newText, File.ReadAllText(output));
        }));
    }

    [Fact]
    public void MissingFinalNewlineIsMarked()
    {
        var diff = UnifiedDiff.Create("a\nb", "a\nc", "x", "x");
        Assert.Equal("--- x\n+++ x\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n", diff);
    }
}
