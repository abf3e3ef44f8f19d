using System.Collections;
using System.Text.Json.Nodes;
using VmDebug.Engine;
using VmDebug.Engine.Json;
using VmDebug.Engine.Qmp;

namespace VmDebug.Tests.Qmp;

/// <summary>What Invoke-QmpCommand sends and returns, below the PowerShell layer.</summary>
public sealed class QmpRawCommandTests
{
    [Fact]
    public void ArgumentsComeFromDictionariesOrJsonText()
    {
        var fromDictionary = QmpRawCommand.ToArguments(new Hashtable { ["path"] = "/machine", ["property"] = "type" });
        Assert.Equal("/machine", fromDictionary!["path"]!.GetValue<string>());
        var fromText = QmpRawCommand.ToArguments("""{"path": "/machine", "nested": {"n": [1, 2]}}""");
        Assert.Equal(2, fromText!["nested"]!["n"]!.AsArray().Count);
        Assert.Null(QmpRawCommand.ToArguments(null));
    }

    [Fact]
    public void TheUnwrapHookSeesEveryValue()
    {
        // PowerShell hands PSCustomObjects; the cmdlet's hook turns them into dictionaries, at every depth.
        var unwrapped = new List<object>();
        var arguments = QmpRawCommand.ToArguments(new Hashtable { ["inner"] = new Hashtable { ["x"] = 1 } }, v => { unwrapped.Add(v); return v; });
        Assert.Equal(1, arguments!["inner"]!["x"]!.GetValue<long>());
        Assert.Contains(unwrapped, v => v is Hashtable h && h.ContainsKey("x"));
        Assert.Contains(unwrapped, v => v is 1);
    }

    [Theory]
    [InlineData("[1, 2]")]
    [InlineData("5")]
    [InlineData("{not json")]
    public void ArgumentsThatAreNotAnObjectAreRefused(string text)
    {
        var error = Assert.Throws<VmDebugException>(() => QmpRawCommand.ToArguments(text));
        Assert.Equal("QmpArgumentsInvalid", error.ErrorId);
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
    }

    [Fact]
    public void RepliesBuildObjectsThroughTheFactoryInOrder()
    {
        var reply = JsonNode.Parse("""{"status": "running", "list": [{"name": "a"}, {"name": "b"}], "n": 3}""");
        var plain = PlainJson.ToPlain(reply, members => members.ToList());
        var top = Assert.IsType<List<KeyValuePair<string, object?>>>(plain);
        Assert.Equal(["status", "list", "n"], top.Select(m => m.Key));
        var list = Assert.IsType<object?[]>(top[1].Value);
        Assert.Equal("b", Assert.IsType<List<KeyValuePair<string, object?>>>(list[1]).Single().Value);
        Assert.Equal(3L, Assert.IsType<long>(top[2].Value));
    }

    [Theory]
    [InlineData("query-status", true)]
    [InlineData("x-query-virtio", true)]
    [InlineData("qom-get", true)]
    [InlineData("stop", false)]
    [InlineData("quit", false)]
    [InlineData("system_reset", false)]
    [InlineData("human-monitor-command", false)]
    [InlineData("queryish", false)]
    public void OnlyKnownReadOnlyCommandsSkipConfirmation(string command, bool readOnly) =>
        Assert.Equal(readOnly, QmpCommandSafety.IsReadOnly(command));
}
