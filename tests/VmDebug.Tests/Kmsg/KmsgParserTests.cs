using System.Text;
using VmDebug.Engine.Kmsg;

namespace VmDebug.Tests.Kmsg;

public class KmsgParserTests
{
    private static KmsgRecord Parse(string record) => KmsgParser.Parse(Encoding.UTF8.GetBytes(record));

    [Fact]
    public void SplitsPriorityIntoFacilityAndLevel()
    {
        var kernel = Parse("6,0,0,-;Linux version 6.1.0-31-cloud-amd64");
        Assert.Equal(KmsgFacility.Kern, kernel.Facility);
        Assert.Equal(KmsgLevel.Info, kernel.Level);

        // 30 = daemon (3) << 3 | info (6), as a userspace daemon writing to /dev/kmsg gets.
        var daemon = Parse("30,7,1,-;systemd");
        Assert.Equal(KmsgFacility.Daemon, daemon.Facility);
        Assert.Equal(KmsgLevel.Info, daemon.Level);

        var unnamed = Parse("1000,1,1,-;x");
        Assert.Equal(125, (int)unnamed.Facility);
        Assert.Equal(KmsgLevel.Emerg, unnamed.Level);
    }

    [Fact]
    public void ReadsSequenceTimestampFlagsAndCaller()
    {
        var record = Parse("4,18446744073709551615,2594820,c,caller=T123;fragment");
        Assert.Equal(ulong.MaxValue, record.Sequence);
        Assert.Equal(TimeSpan.FromMicroseconds(2594820), record.SinceBoot);
        Assert.Equal(KmsgFlag.ContinuationStart, record.Flags);
        Assert.Equal("T123", record.Caller);
        Assert.Equal(KmsgLevel.Warn, record.Level);
        Assert.Equal("fragment", record.Message);

        Assert.Equal(KmsgFlag.Continuation, Parse("6,1,1,+;x").Flags);
        Assert.Equal(@"T1\x1b[2J", Parse("6,1,1,-,caller=T1\u001b[2J;x").Caller);
        Assert.Null(Parse("6,1,1,-;x").Caller);
    }

    [Fact]
    public void IgnoresUnknownPrefixFieldsAsTheAbiAsks()
    {
        var record = Parse("6,5,9,-,future=1,caller=C3,other;text;with;semicolons");
        Assert.Equal("C3", record.Caller);
        Assert.Equal("text;with;semicolons", record.Message);
    }

    [Fact]
    public void DecodesKernelEscapesAndKeepsTheRawText()
    {
        const string raw = @"tab\x09back\x5cslash caf\xc3\xa9 \x1b[31mred";
        var record = Parse("6,1,1,-;" + raw);
        Assert.Equal("tab\tback\\slash café \u001b[31mred", record.Message);
        Assert.Equal(raw, record.GetRawMessage());
        Assert.Equal(@"tab\x09back\slash café \x1b[31mred", record.GetDisplayMessage());
    }

    [Fact]
    public void LeavesIncompleteEscapesAsTheyAre()
    {
        Assert.Equal(@"a\x4 b\q \x", Parse(@"6,1,1,-;a\x4 b\q \x").Message);
    }

    [Fact]
    public void CollectsContinuationLinesIntoFields()
    {
        var record = Parse("12,333,2594820,-;vmdebug tick 1\n SUBSYSTEM=virtio\n DEVICE=+virtio:virtio1\n X=a=b\\x0ac");
        Assert.Equal(KmsgFacility.User, record.Facility);
        Assert.Equal(KmsgLevel.Warn, record.Level);
        Assert.Equal("vmdebug tick 1", record.Message);
        Assert.Equal(3, record.Fields.Count);
        Assert.Equal("virtio", record.Fields["SUBSYSTEM"]);
        Assert.Equal("+virtio:virtio1", record.Fields["DEVICE"]);
        Assert.Equal("a=b\nc", record.Fields["X"]);
        // Export-Csv and string interpolation use the text form: fields, not a type name; control characters escaped.
        Assert.Equal(@"SUBSYSTEM=virtio; DEVICE=+virtio:virtio1; X=a=b\x0ac", record.Fields.ToString());
        Assert.Equal("", Parse("6,1,1,-;no fields").Fields.ToString());
    }

    [Fact]
    public void KeepsAtMostMaxFieldsAndMarksTheRestTruncated()
    {
        var lines = string.Concat(Enumerable.Range(0, KmsgParser.MaxFields + 5).Select(i => $"\n K{i}=v"));
        var record = Parse("6,1,1,-;many" + lines);
        Assert.Equal(KmsgParser.MaxFields, record.Fields.Count);
        Assert.True(record.Truncated);
    }

    [Theory]
    [InlineData("", "the record is empty")]
    [InlineData("6,1,1,-", "the prefix has no ';'")]
    [InlineData("6,1,1;x", "the flag field is missing")]
    [InlineData("6,1;x", "the timestamp field is missing")]
    [InlineData(";x", "the priority field is missing")]
    [InlineData("x,1,1,-;x", "the priority field is not a decimal number")]
    [InlineData("-6,1,1,-;x", "the priority field is not a decimal number")]
    [InlineData("6,,1,-;x", "the sequence field is empty")]
    [InlineData("2147483648,1,1,-;x", "the priority field is larger than 2147483647")]
    [InlineData("6,18446744073709551616,1,-;x", "the sequence field is larger than 18446744073709551615")]
    [InlineData("6,1,922337203685477581,-;x", "the timestamp field is larger than 922337203685477580")]
    [InlineData("6,1,1,x;x", "the flag 'x' is unknown")]
    [InlineData("6,1,1,--;x", "the flag field is not one character")]
    [InlineData("6,1,1,-;x\nKEY=v", "a continuation line does not start with a space")]
    [InlineData("6,1,1,-;x\n KEYv", "a continuation line has no '='")]
    [InlineData("6,1,1,-;x\n =v", "a continuation line has an empty key")]
    [InlineData(" KEY=v", "the prefix has no ';'")]
    public void RejectsMalformedRecordsWithATypedError(string record, string reason)
    {
        var error = Assert.Throws<KmsgFormatException>(() => Parse(record));
        Assert.Equal(reason, error.Reason);
        Assert.Equal("KmsgRecordMalformed", error.ErrorId);
    }

    [Fact]
    public void ForgivesACutLastContinuationLineOfATruncatedRecord()
    {
        var record = KmsgParser.Parse("6,1,1,-;x\n SUBSYSTEM=pci\n DEVI"u8, truncated: true, "g", 1, DateTimeOffset.Now);
        Assert.True(record.Truncated);
        Assert.Equal("pci", Assert.Single(record.Fields).Value);
    }

    [Fact]
    public void FormatsBackToTheKernelForm()
    {
        const string line = "12,333,2594820,c,caller=T7;a\\x5cb\\x1b\n SUBSYSTEM=virtio\n";
        Assert.Equal(line, Parse(line.TrimEnd('\n')).ToKmsgLine());
    }

    [Fact]
    public void DisplayEscapingCoversC1ControlsAndBidiOverrides()
    {
        var record = new KmsgRecord(1, TimeSpan.Zero, KmsgLevel.Info, KmsgFacility.Kern, KmsgFlag.None, "a\u009bb\u202ec\u0007\u007f");
        Assert.Equal(@"a\x9bb\u202ec\x07\x7f", record.GetDisplayMessage());
        Assert.DoesNotContain(record.ToString(), char.IsControl);
    }
}
