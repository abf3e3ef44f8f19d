using System.Text;
using VmDebug.Engine.Vmcore;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Vmcore;

public class VmcoreInfoTests
{
    [Fact]
    public void ParsesTypedValuesIncludingNegativeDecimalPhysBase()
    {
        var info = VmcoreInfo.Parse(SyntheticSource.PlausibleVmcoreInfo + "OFFSET(prb_desc.state_var)=0\nLENGTH(node_data)=1024\n");

        Assert.Equal("6.1.0-28-cloud-amd64", info.OsRelease);
        Assert.Equal(4096, info.PageSize);
        Assert.Equal(-434110464L, info.PhysBase);
        Assert.Equal(0x20600000UL, info.KernelOffset);
        Assert.Equal(0xffffffffa2898d40UL, info.Symbol("prb"));
        Assert.Equal(80UL, info.Size("printk_ringbuffer"));
        Assert.Equal(0UL, info.Offset("prb_desc", "state_var"));
        Assert.Equal(1024UL, info.Length("node_data"));
        Assert.Equal(0L, info.Number("pgtable_l5_enabled"));
        Assert.Equal("0123456789abcdef0123456789abcdef01234567", info.BuildId);
        Assert.Null(info.Symbol("absent"));
        Assert.Equal(0, info.MalformedLineCount);
    }

    [Fact]
    public void HexNumberWithPrefixIsAccepted() =>
        Assert.Equal(unchecked((long)0xffffc90000000000UL), VmcoreInfo.Parse("NUMBER(VMALLOC_START)=0xffffc90000000000\n").Number("VMALLOC_START"));

    [Fact]
    public void MalformedLinesAreCountedAndIgnored()
    {
        var info = VmcoreInfo.Parse("OSRELEASE=6.1\ngarbage line\n=novalue\nSYMBOL(x)=zz\nbad key!=1\r\nPAGESIZE=4096\r\n");

        Assert.Equal(3, info.MalformedLineCount);
        Assert.Equal("6.1", info.OsRelease);
        Assert.Equal(4096, info.PageSize);
        Assert.Null(info.Symbol("x")); // present but not hex
    }

    [Fact]
    public void TextIsBoundedAndStopsAtNul()
    {
        var huge = Encoding.ASCII.GetBytes("OSRELEASE=a\n" + new string('A', 200_000) + "\nPAGESIZE=4096\n");
        var info = VmcoreInfo.Parse(huge);
        Assert.True(info.Text.Length <= VmcoreInfo.MaxBytes);
        Assert.Null(info.PageSize);

        var withNul = Encoding.ASCII.GetBytes("OSRELEASE=b\n\0PAGESIZE=4096\n");
        Assert.Null(VmcoreInfo.Parse(withNul).PageSize);
        Assert.Equal("b", VmcoreInfo.Parse(withNul).OsRelease);
    }

    [Fact]
    public void EveryKeyIsFoundAndTheFirstOccurrenceWins()
    {
        var longName = new string('n', 300); // longer than the lookup's stack buffer
        // 3,000 keys: about 50 KB, inside the 64 KiB bound.
        var text = string.Join('\n', Enumerable.Range(0, 3000).Select(i => $"SYMBOL(s{i})={i:x}"))
            + $"\nSYMBOL(s7)=ffff\nOSRELEASE=6.1\r\nSIZE({longName})=24\n";
        var info = VmcoreInfo.Parse(text);

        for (var i = 0; i < 3000; i++)
        {
            Assert.Equal((ulong)i, info.Symbol($"s{i}"));
        }
        Assert.Equal("6.1", info.OsRelease);
        Assert.Equal(24UL, info.Size(longName));
        Assert.Null(info.Symbol("s3000"));
        Assert.Equal(3002, info.Values.Count);
        Assert.Equal("7", info.Values["SYMBOL(s7)"]);
        Assert.Equal("6.1", info.Values["OSRELEASE"]);
    }

    [Fact]
    public void PhysBaseRoundTripsAnyLong() =>
        FsCheck.Check.One(FsCheck.Config.QuickThrowOnFailure, FsCheck.Fluent.Prop.ForAll<long>(value =>
            VmcoreInfo.Parse($"NUMBER(phys_base)={value}\n").PhysBase == value));
}
