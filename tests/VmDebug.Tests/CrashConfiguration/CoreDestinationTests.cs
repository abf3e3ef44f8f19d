using VmDebug.Engine.CrashConfiguration;

using VmDebug.Tests.Support;

namespace VmDebug.Tests.CrashConfiguration;

public class CoreDestinationTests
{
    private const string SystemdPattern = "|/lib/systemd/systemd-coredump %P %u %g %s %t %c %h";

    [Fact]
    public void SystemdCoredumpCapsMergeMainFileAndDropInsInDocumentedOrder()
    {
        using var host = new TestHost();
        host.Write("proc/sys/kernel/core_pattern", SystemdPattern + "\n");
        host.Write("etc/systemd/coredump.conf", "[Coredump]\n#ProcessSizeMax=32G\nStorage=external\nProcessSizeMax=2G\nExternalSizeMax=3G\n");
        // Sorted by name across directories; a same-named file in /etc masks the one in /usr/lib.
        host.Write("usr/lib/systemd/coredump.conf.d/50-vendor.conf", "[Coredump]\nMaxUse=1G\nExternalSizeMax=100M\n");
        host.Write("etc/systemd/coredump.conf.d/50-vendor.conf", "[Coredump]\nMaxUse=5G\n");
        host.Write("run/systemd/coredump.conf.d/90-late.conf", "[Other]\nProcessSizeMax=1\n[Coredump]\nProcessSizeMax=6G\n");
        var conf = host.Write("qemu.conf", "max_core = \"unlimited\"\ndump_guest_core = 1\n");

        var s = CoreDumpConfigurator.Read(new CoreDumpRequest { ConfigPath = conf, Paths = host.Paths, LargestGuestRamBytes = 8L << 30 });

        Assert.True(s.HandledBySystemdCoredump);
        Assert.Equal(SystemdPattern, s.CorePattern);
        var l = s.SystemdCoredumpLimits!;
        Assert.Equal("external", l.Storage);
        Assert.Equal(6L << 30, l.ProcessSizeMax);
        Assert.Equal(3L << 30, l.ExternalSizeMax);
        Assert.Equal(5L << 30, l.MaxUse);
        Assert.Equal(3, l.ConfigFiles.Count);
        Assert.Contains(s.Warnings, w => w.StartsWith("systemd-coredump ProcessSizeMax=6 GiB is below") && w.Contains("9 GiB"));
        Assert.Contains(s.Warnings, w => w.StartsWith("systemd-coredump ExternalSizeMax=3 GiB"));
        Assert.Contains(s.Warnings, w => w.StartsWith("systemd-coredump MaxUse=5 GiB"));
    }

    [Fact]
    public void SystemdDefaultsApplyWithoutConfigAndBigEnoughCapsGiveNoWarning()
    {
        using var host = new TestHost();
        host.Write("proc/sys/kernel/core_pattern", SystemdPattern + "\n");
        var conf = host.Write("qemu.conf", "max_core = \"unlimited\"\ndump_guest_core = 1\n");
        var s = CoreDumpConfigurator.Read(new CoreDumpRequest { ConfigPath = conf, Paths = host.Paths, LargestGuestRamBytes = 2L << 30 });
        Assert.Equal(32L << 30, s.SystemdCoredumpLimits!.ProcessSizeMax);
        Assert.Null(s.SystemdCoredumpLimits.MaxUse);
        Assert.DoesNotContain(s.Warnings, w => w.Contains("systemd-coredump"));
    }

    [Fact]
    public void RelativeCorePatternWarnsThatCoresLandInRoot()
    {
        using var host = new TestHost();
        host.Write("proc/sys/kernel/core_pattern", "core\n");
        var conf = host.Write("qemu.conf", "max_core = \"unlimited\"\n");
        var s = CoreDumpConfigurator.Read(new CoreDumpRequest { ConfigPath = conf, Paths = host.Paths });
        Assert.False(s.HandledBySystemdCoredump);
        Assert.Null(s.SystemdCoredumpLimits);
        Assert.Contains(s.Warnings, w => w.Contains("relative path") && w.Contains("'/'"));
    }

    [Fact]
    public void ThisMachinesRealCorePatternIsRead()
    {
        var real = File.ReadAllText("/proc/sys/kernel/core_pattern").TrimEnd('\n');
        Assert.Equal(real, CoreDestination.ReadCorePattern(HostPaths.Default));
        Assert.Equal(real.StartsWith('|') && real.Contains("systemd-coredump"), CoreDestination.IsSystemdCoredump(real));
    }
}
