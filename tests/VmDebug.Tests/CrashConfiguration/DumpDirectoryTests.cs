using VmDebug.Engine.CrashConfiguration;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.CrashConfiguration;

/// <summary>Real directories, real accounts (getpwnam of "nobody"), real statvfs and O_DIRECT.</summary>
public class DumpDirectoryTests
{
    [Fact]
    public void WritabilityFollowsTheQemuUsersPermissions()
    {
        using var host = new TestHost();
        var dir = Path.Combine(host.Root, "dumps");
        Directory.CreateDirectory(dir);
        Assert.Equal(0, TestHost.Run("chmod", "755", host.Root).ExitCode);

        Assert.Equal(0, TestHost.Run("chmod", "700", dir).ExitCode);
        var closed = DumpDirectoryInspector.Inspect(dir, "nobody", "nogroup", null, bypassCache: false);
        Assert.False(closed.WritableByUser);
        Assert.Contains(closed.Warnings, w => w.Contains("not writable by QEMU's user 'nobody'"));

        Assert.Equal(0, TestHost.Run("chown", "nobody", dir).ExitCode);
        Assert.True(DumpDirectoryInspector.Inspect(dir, "nobody", "nogroup", null, false).WritableByUser);

        Assert.True(DumpDirectoryInspector.Inspect(dir, "root", "root", null, false).WritableByUser);
        Assert.True(DumpDirectoryInspector.Inspect(dir, "+0", "+0", null, false).WritableByUser);
        Assert.Null(DumpDirectoryInspector.Inspect(dir, "no-such-user-vmdebug", "x", null, false).WritableByUser);
    }

    [Fact]
    public void FreeSpaceIsComparedWithGuestRamAndMatchesDf()
    {
        using var host = new TestHost();
        var s = DumpDirectoryInspector.Inspect(host.Root, "root", "root", long.MaxValue / 2, false);
        var (code, df, _) = TestHost.Run("df", "--output=avail", "-B1", host.Root);
        Assert.Equal(0, code);
        var dfAvail = long.Parse(df.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1].Trim());
        Assert.InRange(s.FreeBytes!.Value, dfAvail - (64L << 20), dfAvail + (64L << 20));
        Assert.Contains(s.Warnings, w => w.Contains("a full dump will not fit"));
    }

    [Fact]
    public void DirectIoProbeReflectsTheFileSystem()
    {
        using var host = new TestHost();
        var s = DumpDirectoryInspector.Inspect(host.Root, "root", "root", null, bypassCache: true);
        Assert.NotNull(s.DirectIoSupported);
        Assert.Empty(Directory.GetFiles(host.Root, ".vmdebug-odirect-*"));
        // /dev/shm is tmpfs: before Linux 6.6 it refuses O_DIRECT, since then it accepts it. Either way the
        // probe agrees with dd, an independent O_DIRECT writer.
        if (!Directory.Exists("/dev/shm"))
        {
            return;
        }

        var shm = DumpDirectoryInspector.Inspect("/dev/shm", "root", "root", null, bypassCache: true);
        var probe = Path.Combine("/dev/shm", $"vmdebug-dd-{Guid.NewGuid():N}");
        var (ddCode, _, _) = TestHost.Run("dd", "if=/dev/zero", $"of={probe}", "bs=4096", "count=1", "oflag=direct");
        File.Delete(probe);
        Assert.Equal(ddCode == 0, shm.DirectIoSupported);
    }

    [Fact]
    public void MissingDirectoryIsReportedThroughTheGuestPanicPlan()
    {
        using var host = new TestHost();
        var conf = host.Write("qemu.conf", $"auto_dump_path = \"{host.Root}/nope\"\nuser = \"root\"\n");
        var xml = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "CrashConfiguration", "TestData", "rich-domain.xml"));
        var plan = GuestPanicConfigurator.Plan(new GuestPanicRequest
        {
            DomainXml = xml,
            Model = GuestPanicModel.Auto,
            OnCrash = CrashAction.CoredumpDestroy,
            VmcoreInfo = true,
            LibvirtVersion = new Version(9, 0, 0),
            ConfigPath = conf,
            Paths = host.Paths,
        });
        Assert.False(plan.Configuration.DumpDirectory!.Exists);
        Assert.Contains(plan.Configuration.Warnings, w => w.Contains("does not exist"));
    }

    [Fact]
    public void AutoDumpSettingsAreWrittenToQemuConfWithTheDomain()
    {
        using var host = new TestHost();
        var conf = host.StockQemuConf();
        var dumps = Directory.CreateDirectory(Path.Combine(host.Root, "dumps")).FullName;
        var xml = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "CrashConfiguration", "TestData", "rich-domain.xml"));
        var plan = GuestPanicConfigurator.Plan(new GuestPanicRequest
        {
            DomainXml = xml,
            Model = GuestPanicModel.Auto,
            OnCrash = CrashAction.CoredumpDestroy,
            VmcoreInfo = true,
            LibvirtVersion = new Version(9, 0, 0),
            ConfigPath = conf,
            AutoDumpPath = dumps,
            BypassCache = true,
            Paths = host.Paths,
        });
        Assert.Contains($"+auto_dump_path = \"{dumps}\"", plan.Diff);
        Assert.Contains("+auto_dump_bypass_cache = 1", plan.Diff);
        Assert.Equal(dumps, plan.Configuration.DumpDirectory!.Path);
        plan.Apply(_ => { }, TestContext.Current.CancellationToken);
        var setting = CoreDumpConfigurator.Read(new CoreDumpRequest { ConfigPath = conf, Paths = host.Paths });
        Assert.Equal(dumps, setting.AutoDumpPath);
        Assert.True(setting.AutoDumpBypassCache);
    }
}

public class DomainDumpCoreTests
{
    [Fact]
    public void EnableSetsDumpCoreOnAnXmlFileAndDisableRemovesIt()
    {
        using var host = new TestHost();
        var conf = host.StockQemuConf();
        var original = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "CrashConfiguration", "TestData", "rich-domain.xml"));
        var xmlPath = host.Write("vm.xml", original);
        var ct = TestContext.Current.CancellationToken;
        var options = new CoreDumpRequest { ConfigPath = conf, IncludeGuestMemory = true, XmlPath = xmlPath, Paths = host.Paths };

        var plan = CoreDumpConfigurator.PlanEnable(options);
        Assert.Contains("+  <memory unit='KiB' dumpCore='on'>524288</memory>", plan.Diff);
        Assert.Contains("+max_core = \"unlimited\"", plan.Diff);
        plan.Apply(ct);
        Assert.Contains("dumpCore='on'", File.ReadAllText(xmlPath));

        CoreDumpConfigurator.PlanDisable(options).Apply(ct);
        Assert.Equal(original, File.ReadAllText(xmlPath));
        Assert.Equal(File.ReadAllBytes(TestHost.StockQemuConfSource), File.ReadAllBytes(conf));
    }
}
