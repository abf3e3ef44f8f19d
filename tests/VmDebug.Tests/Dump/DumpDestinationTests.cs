using VmDebug.Engine.Dump;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Dump;

/// <summary>Several guests dumped into one directory each get their own file, named after the guest and the time.</summary>
public sealed class DumpDestinationTests
{
    private static readonly DateTimeOffset Noon = new(2026, 12, 1, 12, 0, 5, TimeSpan.FromHours(2));

    [Fact]
    public void AFilePathIsKeptAndTheSubjectNotAsked()
    {
        using var dir = new TempDirectory();
        var path = dir.File("guest.elf");
        Assert.Equal(path, DumpDestination.Resolve(path, () => throw new InvalidOperationException("asked"), DumpFormat.Elf, Noon));
    }

    [Theory]
    [InlineData(DumpFormat.Elf, "web1-20261201T100005Z.elf")]
    [InlineData(DumpFormat.KdumpZlib, "web1-20261201T100005Z.kdump")]
    [InlineData(DumpFormat.WinDmp, "web1-20261201T100005Z.dmp")]
    public void ADirectoryGetsSubjectAndUtcTime(DumpFormat format, string expected)
    {
        using var dir = new TempDirectory();
        Assert.Equal(Path.Combine(dir.Path, expected), DumpDestination.Resolve(dir.Path, () => "web1", format, Noon));
    }

    [Fact]
    public void ATakenNameGetsTheNextNumber()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("4242-20261201T100005Z.elf"), "");
        File.CreateSymbolicLink(dir.File("4242-20261201T100005Z-2.elf"), "/nonexistent");
        Assert.Equal(dir.File("4242-20261201T100005Z-3.elf"), DumpDestination.Resolve(dir.Path, () => "4242", DumpFormat.Elf, Noon));
    }

    [Theory]
    [InlineData("../../etc/passwd", "_.._etc_passwd")]
    [InlineData("a b\u001bc", "a_b_c")]
    [InlineData("...", "guest")]
    public void TheSubjectStaysOneFileNameComponent(string subject, string expectedStem)
    {
        using var dir = new TempDirectory();
        var path = DumpDestination.Resolve(dir.Path, () => subject, DumpFormat.Elf, Noon);
        Assert.Equal(dir.Path, Path.GetDirectoryName(path));
        Assert.Equal($"{expectedStem}-20261201T100005Z.elf", Path.GetFileName(path));
    }
}
