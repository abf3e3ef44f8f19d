using System.Text.Json.Nodes;
using VmDebug.Engine.Fleet;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Fleet;

/// <summary>A bad debuginfod URL or --after date is one typed error naming the value and the reason, before anything runs.</summary>
public sealed class WatchArgumentErrorTests
{
    [Theory]
    [InlineData("not a url", "is not an absolute URL")]
    [InlineData("ftp://debuginfod.example", "its scheme is ftp, not http or https")]
    [InlineData("/srv/debuginfod", "its scheme is file, not http or https")]
    [InlineData("http://debuginfod.example/?x=1", "has a query or fragment")]
    public async Task ABadDebuginfodUrlIsAnInvalidArgumentNamingItAndTheWatcherDoesNotStart(string url, string reason)
    {
        using var directory = new TempDirectory();
        var archive = directory.File("archive");
        var (exit, stdout, stderr) = await Support.Cli.RunAsync("watch", "--socket", directory.File("qmp.sock"), "--archive", archive,
            "--debuginfod", "http://localhost:8002", "--debuginfod", url, "--timeout", "5", "--json");

        Assert.Equal(3, exit);
        Assert.Equal("", stdout);
        var error = JsonNode.Parse(stderr.Trim())!["error"]!;
        Assert.Equal("DebuginfodUrlInvalid", (string?)error["id"]);
        Assert.Equal("InvalidArgument", (string?)error["kind"]);
        Assert.Equal(url, (string?)error["target"]);
        Assert.Contains($"'{url}'", (string?)error["message"]);
        Assert.Contains(reason, (string?)error["message"]);
        Assert.False(Directory.Exists(archive), "the watcher must not start (nor create its archive) on a bad argument");

        var text = await Support.Cli.RunAsync("watch", "--socket", directory.File("qmp.sock"), "--archive", archive, "--debuginfod", url);
        Assert.Equal(3, text.ExitCode);
        Assert.Contains($"'{url}' is not a debuginfod server URL", text.Stderr);
        Assert.EndsWith("[DebuginfodUrlInvalid]", text.Stderr.Trim());
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("2026-13-01")]
    [InlineData("2026-12-01T25:00Z")]
    public async Task ABadAfterDateOfCrashesIsAnInvalidArgumentNamingIt(string date)
    {
        using var directory = new TempDirectory();
        var (exit, stdout, stderr) = await Support.Cli.RunAsync("crashes", "--archive", directory.Path, "--after", date, "--json");

        Assert.Equal(3, exit);
        Assert.Equal("", stdout);
        var error = JsonNode.Parse(stderr.Trim())!["error"]!;
        Assert.Equal("CrashTimeInvalid", (string?)error["id"]);
        Assert.Equal("InvalidArgument", (string?)error["kind"]);
        Assert.Equal(date, (string?)error["target"]);
        Assert.Contains($"'{date}' given to --after is not a date and time", (string?)error["message"]);
    }

    [Fact]
    public async Task CrashesOnAnArchiveThatDoesNotExistIsNotFoundNotAnEmptyList()
    {
        using var directory = new TempDirectory();
        var missing = directory.File("no-such-archive");
        var (exit, stdout, stderr) = await Support.Cli.RunAsync("crashes", "--archive", missing, "--json");

        Assert.Equal(4, exit);
        Assert.Equal("", stdout);
        var error = JsonNode.Parse(stderr.Trim())!["error"]!;
        Assert.Equal("ArchiveNotFound", (string?)error["id"]);
        Assert.Equal("ObjectNotFound", (string?)error["kind"]);
        Assert.Equal(missing, (string?)error["target"]);
        Assert.False(Directory.Exists(missing), "listing must not create the archive");
    }

    [Fact]
    public async Task CrashesAfterReadsIso8601AsUtcUnlessAnOffsetIsGiven()
    {
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), CrashArchive.ParseTime("2026-12-01"));
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 14, 0, 0, TimeSpan.Zero), CrashArchive.ParseTime("2026-12-01T15:00+01:00").ToUniversalTime());
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 14, 0, 0, TimeSpan.Zero), CrashArchive.ParseTime("2026-12-01T14:00:00Z"));

        // Against an archive: one crash before and one after the given time.
        using var directory = new TempDirectory();
        foreach (var time in new[] { new DateTimeOffset(2026, 12, 1, 13, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 12, 1, 15, 0, 0, TimeSpan.Zero) })
        {
            ArchivedCrash.Write(directory.Path, "web1", time, 16);
        }
        var (exit, stdout, stderr) = await Support.Cli.RunAsync("crashes", "--archive", directory.Path, "--after", "2026-12-01T14:00", "--json");
        Assert.True(exit == 0, stderr);
        var listed = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Single(listed);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 15, 0, 0, TimeSpan.Zero), DateTimeOffset.Parse((string)listed[0]["panicTime"]!, System.Globalization.CultureInfo.InvariantCulture));
    }
}
