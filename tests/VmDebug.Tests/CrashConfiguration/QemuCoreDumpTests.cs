using VmDebug.Engine;
using VmDebug.Engine.CrashConfiguration;

using VmDebug.Tests.Support;

namespace VmDebug.Tests.CrashConfiguration;

public class QemuCoreDumpTests
{
    private static CoreDumpRequest Enable(TestHost host, string conf) => new()
    {
        ConfigPath = conf,
        MaxCore = "unlimited",
        IncludeGuestMemory = true,
        Paths = host.Paths,
    };

    [Fact]
    public void EnableOnStockFileAddsExactlyTheTwoLinesAfterTheirCommentedDefaults()
    {
        using var host = new TestHost();
        var conf = host.StockQemuConf();
        var original = File.ReadAllLines(conf);

        var setting = CoreDumpConfigurator.PlanEnable(Enable(host, conf)).Apply(TestContext.Current.CancellationToken);

        var after = File.ReadAllLines(conf);
        Assert.Equal(original.Length + 2, after.Length);
        var mc = Array.IndexOf(after, "max_core = \"unlimited\"");
        var dgc = Array.IndexOf(after, "dump_guest_core = 1");
        Assert.Equal("#max_core = \"unlimited\"", after[mc - 1]);
        Assert.Equal("#dump_guest_core = 1", after[dgc - 1]);
        Assert.Equal(original, after.Where((_, i) => i != mc && i != dgc));

        Assert.Equal("unlimited", setting.MaxCore);
        Assert.Null(setting.MaxCoreBytes);
        Assert.True(setting.IncludeGuestMemory);
        Assert.Equal("/var/lib/libvirt/qemu/dump", setting.AutoDumpPath);
        Assert.Equal("libvirt-qemu", setting.User);
        Assert.NotNull(setting.BackupPath);
        Assert.Equal(File.ReadAllBytes(TestHost.StockQemuConfSource), File.ReadAllBytes(setting.BackupPath!));
        Assert.Matches(@"qemu\.conf\.vmdebug-\d{8}T\d{6}\.bak$", setting.BackupPath);
    }

    [Fact]
    public void SecondEnableChangesNothingAndDisableRestoresTheOriginalBytes()
    {
        using var host = new TestHost();
        var conf = host.StockQemuConf();
        var ct = TestContext.Current.CancellationToken;
        CoreDumpConfigurator.PlanEnable(Enable(host, conf)).Apply(ct);
        var enabled = File.ReadAllBytes(conf);

        var again = CoreDumpConfigurator.PlanEnable(Enable(host, conf));
        Assert.False(again.HasChanges);
        Assert.Equal("", again.Diff);
        Assert.Null(again.Apply(ct).BackupPath);
        Assert.Equal(enabled, File.ReadAllBytes(conf));

        var disabled = CoreDumpConfigurator.PlanDisable(new CoreDumpRequest { ConfigPath = conf, Paths = host.Paths }).Apply(ct);
        Assert.Equal(File.ReadAllBytes(TestHost.StockQemuConfSource), File.ReadAllBytes(conf));
        Assert.Equal("0", disabled.MaxCore);
        Assert.False(disabled.IncludeGuestMemory);
    }

    [Fact]
    public void WhatIfDiffIsExactAndPatchAppliesIt()
    {
        using var host = new TestHost();
        var conf = host.StockQemuConf();
        var plan = CoreDumpConfigurator.PlanEnable(Enable(host, conf));
        Assert.Equal(File.ReadAllBytes(TestHost.StockQemuConfSource), File.ReadAllBytes(conf)); // planning writes nothing

        var patchFile = host.Write("enable.diff", plan.Diff);
        var (code, _, stderr) = TestHost.Run("patch", "--quiet", "-o", Path.Combine(host.Root, "patched.conf"), conf, patchFile);
        Assert.True(code == 0, stderr);
        plan.Apply(TestContext.Current.CancellationToken);
        Assert.Equal(File.ReadAllBytes(conf), File.ReadAllBytes(Path.Combine(host.Root, "patched.conf")));
        Assert.Contains("+max_core = \"unlimited\"\n", plan.Diff);
        Assert.Contains("+dump_guest_core = 1\n", plan.Diff);
        Assert.Equal(2, plan.Diff.Split('\n').Count(l => l.StartsWith('+') && !l.StartsWith("+++")));
        Assert.DoesNotContain(plan.Diff.Split('\n'), l => l.StartsWith('-') && !l.StartsWith("---"));
    }

    [Fact]
    public void ApplyKeepsOwnerAndModeOfTheFile()
    {
        using var host = new TestHost();
        var conf = host.StockQemuConf();
        const uint uid = 65534, gid = 65534; // nobody/nogroup: an owner this process would not create files as
        var (code, _, err) = TestHost.Run("chown", $"{uid}:{gid}", conf);
        Assert.True(code == 0, err);
        Assert.Equal(0, TestHost.Run("chmod", "640", conf).ExitCode);

        CoreDumpConfigurator.PlanEnable(Enable(host, conf)).Apply(TestContext.Current.CancellationToken);

        var (statCode, stat, _) = TestHost.Run("stat", "-c", "%u:%g:%a", conf);
        Assert.Equal(0, statCode);
        Assert.Equal($"{uid}:{gid}:640", stat.Trim());
        Assert.Empty(Directory.EnumerateFiles(Path.GetDirectoryName(conf)!, "*.tmp"));
    }

    [Fact]
    public void MalformedFileIsRefusedWithItsLineAndLeftUntouched()
    {
        using var host = new TestHost();
        var conf = host.Write("qemu.conf", "user = \"root\"\ngroup = \"root\n");
        var before = File.ReadAllBytes(conf);
        var ex = Assert.Throws<LibvirtConfSyntaxException>(() => CoreDumpConfigurator.PlanEnable(Enable(host, conf)));
        Assert.Equal(2, ex.Line);
        Assert.Equal(before, File.ReadAllBytes(conf));
        Assert.Single(Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(conf)!, "qemu.conf*"));
    }

    [Fact]
    public void SizesWithUnitsBecomeByteCounts()
    {
        using var host = new TestHost();
        var conf = host.Write("qemu.conf", "max_core = 0\n");
        var setting = CoreDumpConfigurator.PlanEnable(new CoreDumpRequest
        {
            ConfigPath = conf,
            MaxCore = "4GiB",
            IncludeGuestMemory = true,
            LargestGuestRamBytes = 4L << 30,
            Paths = host.Paths,
        }).Apply(TestContext.Current.CancellationToken);
        Assert.Equal("max_core = 4294967296\ndump_guest_core = 1\n", File.ReadAllText(conf));
        Assert.Equal(4L << 30, setting.MaxCoreBytes);
        Assert.Contains(setting.Warnings, w => w.Contains("below the largest guest's RAM plus 1 GiB"));
        Assert.Throws<VmDebugException>(() => CoreDumpConfigurator.PlanEnable(new CoreDumpRequest { ConfigPath = conf, MaxCore = "4 parsecs", Paths = host.Paths }));
    }

    [Theory]
    [InlineData("512M", 512L << 20)]
    [InlineData("4GiB", 4L << 30)]
    [InlineData("8GB", 8_000_000_000L)]
    [InlineData("123", 123L)]
    [InlineData("1 TiB", 1L << 40)]
    public void ByteSizeParsesUnits(string text, long expected) => Assert.Equal(expected, ByteSize.Parse(text));

    [Fact]
    public void InvalidValuesAlreadyInTheFileAreReportedAsLibvirtWouldRejectThem()
    {
        using var host = new TestHost();
        var conf = host.Write("qemu.conf", "max_core = \"lots\"\ndump_guest_core = 2\nmax_core = 1\n");
        var s = CoreDumpConfigurator.Read(new CoreDumpRequest { ConfigPath = conf, Paths = host.Paths });
        Assert.Contains(s.Warnings, w => w.StartsWith("max_core = \"lots\" on line 1 is rejected"));
        Assert.Contains(s.Warnings, w => w.StartsWith("dump_guest_core = 2 on line 2 is rejected"));
        Assert.Contains(s.Warnings, w => w == "max_core is set on lines 1, 3; libvirt uses the first.");
    }
}
