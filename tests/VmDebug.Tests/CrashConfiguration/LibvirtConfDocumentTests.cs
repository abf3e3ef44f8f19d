using FsCheck;
using FsCheck.Fluent;
using VmDebug.Engine.CrashConfiguration;

using VmDebug.Tests.Support;

namespace VmDebug.Tests.CrashConfiguration;

public class LibvirtConfDocumentTests
{
    [Fact]
    public void StockDebianFileParsesWithNoActiveSettingsAndKnowsItsCommentedDefaults()
    {
        var doc = LibvirtConfDocument.Load(TestHost.StockQemuConfSource);
        Assert.Empty(doc.Entries);
        Assert.Equal("libvirt-qemu", doc.GetCommentedDefaultString("user"));
        Assert.Contains(doc.CommentedSettings, c => c.Name == "max_core" && c.ValueText == "\"unlimited\"");
        // The commented cgroup_device_acl example is a multi-line list; its block must end at the closing bracket.
        var acl = doc.CommentedSettings.Single(c => c.Name == "cgroup_device_acl");
        Assert.EndsWith("#]\n", doc.Text[..acl.BlockEnd]);
    }

    [Fact]
    public void ParsesEveryValueKindOfTheGrammar()
    {
        const string text = "a = \"x y\" # trailing\nb='single'\nc = -12; d = +7\n\ne = [ \"1\",\n  '2',\n]\nf = \"\"\"multi\nline\"\"\"\ng = []\n";
        var doc = LibvirtConfDocument.Parse(text);
        Assert.Equal(["a", "b", "c", "d", "e", "f", "g"], doc.Entries.Select(e => e.Name));
        Assert.Equal("x y", doc.Find("a")!.Value.String);
        Assert.Equal("single", doc.Find("b")!.Value.String);
        Assert.Equal(-12, doc.Find("c")!.Value.Integer);
        Assert.Equal(7, doc.Find("d")!.Value.Integer);
        Assert.Equal(["1", "2"], doc.Find("e")!.Value.Items.Select(i => i.String));
        Assert.Equal("multi\nline", doc.Find("f")!.Value.String);
        Assert.Empty(doc.Find("g")!.Value.Items);
        Assert.Equal(10, doc.Find("g")!.Line);
    }

    [Theory]
    [InlineData("a = 1\nb = \"open\nc = 2\n", 2, "unterminated string")]
    // libvirt counts the line where it noticed the problem: after skipping to the next item.
    [InlineData("a = 1\n\n\nlist = [ \"x\"\n  \"y\" ]\n", 5, "expecting a separator in list")]
    [InlineData("x = 1 2\n", 1, "expecting a separator")]
    [InlineData("# ok\n= 3\n", 2, "expecting a name")]
    [InlineData("key \"v\"\n", 1, "expecting an assignment")]
    [InlineData("k = [ # no comments inside lists\n \"a\" ]\n", 1, "expecting a value")]
    [InlineData("k = @\n", 1, "expecting a value")]
    public void MalformedFilesReportTheLine(string text, int line, string reason)
    {
        var ex = Assert.Throws<LibvirtConfSyntaxException>(() => LibvirtConfDocument.Parse(text, "t.conf"));
        Assert.Equal(line, ex.Line);
        Assert.Equal(reason, ex.Reason);
        Assert.Equal("QemuConfSyntaxError", ex.ErrorId);
        Assert.StartsWith($"t.conf:{line}:", ex.Message);
    }

    [Fact]
    public void ChangingAValueRewritesOnlyTheValueText()
    {
        const string text = "# head\nmax_core   =  0   # keep me\nother = 'x'\n";
        var doc = LibvirtConfDocument.Parse(text).With("max_core", LibvirtConfValue.FromString("unlimited"));
        Assert.Equal("# head\nmax_core   =  \"unlimited\"   # keep me\nother = 'x'\n", doc.Text);
    }

    [Fact]
    public void SameValueSpelledDifferentlyIsNotAChange()
    {
        var doc = LibvirtConfDocument.Parse("max_core = 'unlimited'\nn = +1\n");
        Assert.Same(doc, doc.With("max_core", LibvirtConfValue.FromString("unlimited")));
        Assert.Same(doc, doc.With("n", LibvirtConfValue.FromInteger(1)));
    }

    [Fact]
    public void NewKeyGoesAfterItsCommentedDefaultElseAtTheEnd()
    {
        const string text = "#\n#max_core = \"unlimited\"\n\n#acl = [\n#  \"/dev/null\",\n#]\nlast = 1";
        var doc = LibvirtConfDocument.Parse(text)
            .With("max_core", LibvirtConfValue.FromInteger(5))
            .With("acl", LibvirtConfValue.FromInteger(1))
            .With("fresh", LibvirtConfValue.FromInteger(2));
        Assert.Equal("#\n#max_core = \"unlimited\"\nmax_core = 5\n\n#acl = [\n#  \"/dev/null\",\n#]\nacl = 1\nlast = 1\nfresh = 2\n", doc.Text);
    }

    [Fact]
    public void RemovingAStatementSharingALineKeepsTheOthers()
    {
        var doc = LibvirtConfDocument.Parse("a = 1; b = 2\nc = 3 # note\nd = 4\n");
        Assert.Equal("b = 2\nd = 4\n", doc.Without("a").Without("c").Text);
    }

    [Fact]
    public void FirstOccurrenceIsTheEffectiveOneAndIsTheOneEdited()
    {
        var doc = LibvirtConfDocument.Parse("k = 1\nk = 2\n");
        Assert.Equal(1, doc.Find("k")!.Value.Integer);
        Assert.Equal("k = 3\nk = 2\n", doc.With("k", LibvirtConfValue.FromInteger(3)).Text);
    }

    [Fact]
    public void BytesThatAreNotUtf8SurviveAnEdit()
    {
        byte[] original = [.. "# caf"u8, 0xe9, .. "\nk = 1\n"u8]; // a lone 0xE9 is invalid UTF-8
        var doc = LibvirtConfDocument.Parse(System.Text.Encoding.Latin1.GetString(original));
        var edited = doc.With("k", LibvirtConfValue.FromInteger(2)).ToBytes();
        Assert.Equal(original[..^2], edited[..^2]);
        Assert.Equal((byte)'2', edited[^2]);
    }

    /// <summary>Setting an absent key and removing it again gives back the exact text, whatever the file holds.</summary>
    [Fact]
    public void SetThenRemoveOfANewKeyIsLossless()
    {
        var line = Gen.Elements(
            "", "# comment", "#fresh = \"example\"", "a = 1", "b = 'x'  # c", "c = [ \"1\", \"2\" ]", "d = [\n  \"m\",\n]", "e = -3; f = \"y\"", "   ", "\t# indented");
        var files = Gen.ListOf(line).Select(ls => string.Join("\n", ls))
            .SelectMany(body => Gen.Elements("", "\n").Select(end => body + end));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), Prop.ForAll(files.ToArbitrary(), text =>
        {
            var doc = LibvirtConfDocument.Parse(text);
            var set = doc.With("fresh", LibvirtConfValue.FromString("v"));
            Assert.Equal("v", set.GetString("fresh"));
            Assert.Equal(doc.Entries.Select(e => (e.Name, e.Value.Text)), set.Entries.Where(e => e.Name != "fresh").Select(e => (e.Name, e.Value.Text)));
            var back = set.Without("fresh");
            // Adding a line to a file without a final line break adds one; everything else is restored exactly.
            Assert.True(back.Text == text || (!text.EndsWith('\n') && back.Text == text + "\n"), $"{text}|{back.Text}");
        }));
    }
}
