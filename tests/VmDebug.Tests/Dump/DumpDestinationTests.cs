using VmDebug.Engine;
using VmDebug.Engine.Dump;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Dump;

/// <summary>Several dumps of one command into one destination (defect 11 of issue 9).</summary>
public sealed class DumpDestinationTests
{
    private static readonly DateTime Noon = new(2026, 12, 1, 12, 0, 5, DateTimeKind.Utc);

    [Fact]
    public void ADirectoryTakesEveryInputUnderAGeneratedNameThatNeverReplacesAFile()
    {
        using var directory = new TempDirectory();
        File.WriteAllText(directory.File("web1-20261201T120005Z.kdump"), "someone else's");
        var destination = new DumpDestination(directory.Path, () => Noon);

        Assert.True(destination.IsDirectory);
        Assert.Equal(directory.File("web1-20261201T120005Z-2.kdump"), destination.PathFor("web1", DumpFormat.KdumpZstd));
        Assert.Equal(directory.File("web1-20261201T120005Z-3.kdump"), destination.PathFor("web1", DumpFormat.KdumpLzo));
        Assert.Equal(directory.File("web1-20261201T120005Z.elf"), destination.PathFor("web1", DumpFormat.Elf));
        // Guest-chosen names never leave the directory or hide the file.
        Assert.Equal(directory.File("_etc_passwd-20261201T120005Z.kdump"), destination.PathFor("/etc/passwd", DumpFormat.KdumpZlib));
        Assert.Equal(directory.File("vmcore.hidden-20261201T120005Z.kdump"), destination.PathFor(".hidden", DumpFormat.KdumpZlib));
        Assert.True(Path.GetFileName(destination.PathFor(new string('x', 1000), DumpFormat.KdumpZlib)).Length < 100);
    }

    [Fact]
    public void AFileTakesOneInputAndTheSecondIsRefusedByName()
    {
        using var directory = new TempDirectory();
        var destination = new DumpDestination(directory.File("one.kdump"), () => Noon);

        Assert.False(destination.IsDirectory);
        Assert.Equal(directory.File("one.kdump"), destination.PathFor("a", DumpFormat.KdumpZlib));
        var second = Assert.Throws<VmDebugException>(() => destination.PathFor("b", DumpFormat.KdumpZlib));
        Assert.Equal("DumpDestinationReused", second.ErrorId);
        Assert.Equal(directory.File("one.kdump"), second.Target);
    }
}
