using VmDebug.Engine;
using VmDebug.Engine.Fleet;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Fleet;

/// <summary>
/// crash.json files that broke Get-GuestCrash with untyped errors (InvalidOperationException, ArgumentException), seen
/// while writing the crash-json fuzz kind and minimised: each is a typed error for Read, and a skipped folder with a
/// problem for List.
/// </summary>
public sealed class CrashJsonReadTests
{
    [Theory]
    [InlineData("""{"schemaVersion": "1"}""", "CrashJsonVersionUnknown")]
    [InlineData("""{"schemaVersion": 99999999999}""", "CrashJsonVersionUnknown")]
    [InlineData("""{"schemaVersion": 1.5}""", "CrashJsonVersionUnknown")]
    [InlineData("""{"schemaVersion": 1, "schemaVersion": 1}""", "CrashJsonInvalid")]
    [InlineData("""{"schemaVersion": 1, "guest": "a", "guest": "b", "dumpFile": "vmcore.kdump", "dumpFormat": "kdump-zstd", "panicTime": "2026-12-01T11:26:51Z"}""", "CrashJsonInvalid")]
    public void MistypedOrRepeatedFieldsAreTypedErrors(string json, string errorId)
    {
        using var archive = new TempDirectory();
        var folder = Path.Combine(archive.Path, "g1", "20261201T112651Z");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "crash.json"), json);

        var error = Assert.Throws<VmDebugException>(() => CrashArchive.Read(folder));
        Assert.Equal(errorId, error.ErrorId);
        Assert.Contains(Path.Combine(folder, "crash.json"), error.Message, StringComparison.Ordinal);

        var problems = new List<string>();
        Assert.Empty(new CrashArchive(archive.Path).List(null, null, problems));
        Assert.Equal(error.Message, Assert.Single(problems));
    }
}
