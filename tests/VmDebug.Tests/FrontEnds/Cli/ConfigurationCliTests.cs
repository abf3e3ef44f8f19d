using System.Text.Json.Nodes;
using System.Xml.Linq;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.FrontEnds.Cli;

/// <summary>`vmdebug coredump` and `vmdebug panic-device` on files, run as a process the way an admin runs them.</summary>
public sealed class ConfigurationCliTests : IDisposable
{
    private readonly TestHost _host = new();

    public void Dispose() => _host.Dispose();

    private static async Task<JsonNode> RunJsonAsync(params string[] arguments)
    {
        var (exit, stdout, stderr) = await Support.Cli.RunAsync([.. arguments, "--json"]);
        Assert.True(exit == 0, $"vmdebug {string.Join(' ', arguments)} exited {exit}: {stderr}");
        return JsonNode.Parse(stdout)!;
    }

    private int Backups(string path) => Directory.GetFiles(Path.GetDirectoryName(path)!).Count(f => f != path && Path.GetFileName(f).StartsWith(Path.GetFileName(path), StringComparison.Ordinal));

    [Fact]
    public async Task StockQemuConfChangesOnlyInTwoLinesAndSecondRunAndDisableRestoreIt()
    {
        var conf = _host.StockQemuConf();
        var original = File.ReadAllBytes(conf);
        var before = await RunJsonAsync("coredump", "show", "--config", conf);

        var preview = await Support.Cli.RunAsync("coredump", "enable", "--config", conf, "--guest-memory", "--what-if");
        Assert.Equal(0, preview.ExitCode);
        Assert.Contains("+max_core = \"unlimited\"", preview.Stdout);
        Assert.Equal(original, File.ReadAllBytes(conf));

        var enabled = await RunJsonAsync("coredump", "enable", "--config", conf, "--guest-memory");
        Assert.Equal("unlimited", (string?)enabled["maxCore"]);
        Assert.True((bool)enabled["includeGuestMemory"]!);
        var originalLines = File.ReadAllLines(TestHost.StockQemuConfSource);
        var newLines = File.ReadAllLines(conf);
        // Only insertions, and exactly these two: removing them gives back every original line in order.
        var added = newLines.Where(l => l is "max_core = \"unlimited\"" or "dump_guest_core = 1").ToList();
        Assert.Equal(["max_core = \"unlimited\"", "dump_guest_core = 1"], added);
        Assert.Equal(originalLines, newLines.Where(l => !added.Contains(l)));
        Assert.Equal(newLines.Length, originalLines.Length + 2);
        Assert.Equal(1, Backups(conf));

        var enabledBytes = File.ReadAllBytes(conf);
        var again = await RunJsonAsync("coredump", "enable", "--config", conf, "--guest-memory");
        Assert.Empty(again["changes"]!.AsArray());
        Assert.Equal("", (string?)again["diff"]);
        Assert.Equal(enabledBytes, File.ReadAllBytes(conf));
        Assert.Equal(1, Backups(conf));

        await RunJsonAsync("coredump", "disable", "--config", conf);
        Assert.Equal(original, File.ReadAllBytes(conf));
        var after = await RunJsonAsync("coredump", "show", "--config", conf);
        foreach (var key in new[] { "maxCore", "maxCoreBytes", "includeGuestMemory", "autoDumpPath", "user", "group" })
        {
            Assert.Equal(before[key]?.ToJsonString(), after[key]?.ToJsonString());
        }
    }

    [Fact]
    public async Task EditedDomainXmlValidatesAndKeepsEveryUnrelatedNode()
    {
        var xml = _host.Write("rich.xml", File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "CrashConfiguration", "TestData", "rich-domain.xml")));
        var original = File.ReadAllText(xml);
        var conf = _host.StockQemuConf();
        var dumps = Directory.CreateDirectory(Path.Combine(_host.Root, "dumps")).FullName;

        var preview = await Support.Cli.RunAsync("panic-device", "set", "--xml", xml, "--on-crash", "coredump-destroy", "--config", conf, "--what-if");
        Assert.Equal(0, preview.ExitCode);
        Assert.Contains("+  <on_crash>coredump-destroy</on_crash>", preview.Stdout);
        Assert.Equal(original, File.ReadAllText(xml));

        var set = await RunJsonAsync("panic-device", "set", "--xml", xml, "--model", "isa", "--on-crash", "coredump-destroy", "--vmcoreinfo", "on",
            "--config", conf, "--auto-dump-path", dumps);
        Assert.Equal("Isa", (string?)set["panicModel"]);
        Assert.Equal(dumps, (string?)set["dumpDirectory"]!["path"]);
        await RunJsonAsync("coredump", "enable", "--config", conf, "--xml", xml);
        var shown = await RunJsonAsync("panic-device", "show", "--xml", xml, "--config", conf);
        Assert.Equal("CoredumpDestroy", (string?)shown["onCrash"]);
        Assert.Equal("on", (string?)shown["dumpCore"]);
        Assert.True((bool)shown["vmcoreInfo"]!);

        var (code, stdout, stderr) = TestHost.Run("virt-xml-validate", xml, "domain");
        Assert.True(code == 0, stdout + stderr);

        // With the four crash-related edits taken out again, the documents are identical node for node.
        Assert.True(XNode.DeepEquals(WithoutCrashSettings(original), WithoutCrashSettings(File.ReadAllText(xml))), File.ReadAllText(xml));
        Assert.Equal(XDocument.Parse(original).DescendantNodes().OfType<XComment>().Select(c => c.Value),
            XDocument.Parse(File.ReadAllText(xml)).DescendantNodes().OfType<XComment>().Select(c => c.Value));
    }

    private static XDocument WithoutCrashSettings(string xml)
    {
        var doc = XDocument.Parse(xml);
        var root = doc.Root!;
        root.Element("on_crash")?.Remove();
        root.Element("features")?.Element("vmcoreinfo")?.Remove();
        root.Element("devices")?.Elements("panic").Remove();
        root.Element("memory")?.Attribute("dumpCore")?.Remove();
        return doc;
    }

    [Fact]
    public async Task UsageErrorsAreRefusedBeforeAnythingIsRead()
    {
        var both = await Support.Cli.RunAsync("panic-device", "show", "--xml", "/nonexistent.xml", "--domain", "x");
        Assert.NotEqual(0, both.ExitCode);
        Assert.Contains("exactly one of --domain and --xml", both.Stderr);

        var badAction = await Support.Cli.RunAsync("panic-device", "set", "--xml", _host.Write("d.xml", "<domain/>"), "--on-crash", "explode", "--json");
        Assert.Equal(3, badAction.ExitCode);
        Assert.Equal("CrashActionInvalid", (string?)JsonNode.Parse(badAction.Stderr)!["error"]!["id"]);
    }
}
