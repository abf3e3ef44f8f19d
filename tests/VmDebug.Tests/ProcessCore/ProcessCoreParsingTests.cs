using FsCheck;
using FsCheck.Fluent;
using VmDebug.Engine.ProcessCore;

namespace VmDebug.Tests.ProcessCore;

/// <summary>Command lines, layout rules, RAM location and systemd-coredump listings, on inputs built here.</summary>
public sealed class ProcessCoreParsingTests
{
    private const ulong MiB = 1UL << 20, GiB = 1UL << 30;

    [Fact]
    public void LibvirtStyleCommandLinesAreRead()
    {
        // The shape libvirt 9 writes: JSON -object, -machine with memory-backend, -m in KiB via size=.
        var line = QemuCommandLine.Parse([
            "/usr/bin/qemu-system-x86_64", "-name", "guest=vm1,debug-threads=on", "-machine",
            "pc-q35-7.2,usb=off,vmport=off,dump-guest-core=on,memory-backend=pc.ram", "-accel", "kvm", "-m", "size=4194304k",
            "-object", "{\"qom-type\":\"memory-backend-ram\",\"id\":\"pc.ram\",\"size\":4294967296}",
        ]);
        Assert.Equal("pc-q35-7.2", line.MachineType);
        Assert.Equal(QemuMachineFamily.Q35, line.Family);
        Assert.Equal(4 * GiB, line.RamBytes);
        Assert.Equal("memory-backend-ram", line.MachineBackend!.Type);
        Assert.Empty(line.Errors);
        Assert.Empty(line.UnmodelledMemory);
    }

    [Theory]
    [InlineData("512", 512 * MiB)]
    [InlineData("512M", 512 * MiB)]
    [InlineData("4G", 4 * GiB)]
    [InlineData("1.5G", 3 * GiB / 2)]
    [InlineData("size=2048,slots=4,maxmem=8G", 2 * GiB)]
    [InlineData("0x20000000", 512 * MiB)]
    public void MemorySizesFollowQemusUnits(string value, ulong bytes) =>
        Assert.Equal(bytes, QemuCommandLine.Parse(["qemu-system-x86_64", "-m", value]).RamBytes);

    [Fact]
    public void DefaultsAndUnmodelledMemoryAreNamed()
    {
        var bare = QemuCommandLine.Parse(["qemu-system-x86_64"]);
        Assert.Equal(QemuMachineFamily.I440fx, bare.Family);
        Assert.Equal(128 * MiB, bare.RamBytes);

        var numa = QemuCommandLine.Parse(["qemu-system-x86_64", "-M", "q35", "-numa", "node,memdev=m0", "-device", "pc-dimm,id=d1,memdev=m1"]);
        Assert.Equal("-device pc-dimm", Assert.Single(numa.UnmodelledMemory));
        var nodes = QemuCommandLine.Parse(["qemu-system-x86_64", "-numa", "node,nodeid=0,memdev=m0", "-numa", "node,nodeid=1,memdev=m1"]);
        Assert.Contains("2 NUMA nodes", Assert.Single(nodes.UnmodelledMemory));

        Assert.Equal(QemuMachineFamily.Unknown, QemuCommandLine.Parse(["qemu-system-x86_64", "-machine", "type=microvm"]).Family);
        Assert.Equal(QemuMachineFamily.I440fx, QemuCommandLine.Parse(["qemu-system-x86_64", "-machine", "pc-i440fx-7.2"]).Family);
        Assert.False(QemuCommandLine.Parse(["qemu-system-x86_64", "-machine", "pc-1.7"]).GigabyteAlign);
        Assert.Equal("a,b", QemuCommandLine.SplitOptions("id=a,,b", "x")[0].Value);
    }

    /// <summary>The command line libvirt 9.0 writes for a q35 domain (JSON -object and -device, versioned machine, one NUMA node).</summary>
    [Fact]
    public void LibvirtCommandLinesGiveTheRamBackendAndDevices()
    {
        var line = QemuCommandLine.Parse([
            "/usr/bin/qemu-system-x86_64", "-name", "guest=web1,debug-threads=on", "-S",
            "-machine", "pc-q35-7.2,usb=off,dump-guest-core=on,memory-backend=pc.ram",
            "-object", """{"qom-type":"memory-backend-ram","id":"pc.ram","size":2147483648}""",
            "-m", "size=2097152k,slots=16,maxmem=8388608k",
            "-device", """{"driver":"VGA","id":"video0","vgamem_mb":32,"bus":"pcie.0","addr":"0x1"}""",
        ]);
        Assert.Equal(QemuMachineFamily.Q35, line.Family);
        Assert.Equal(2 * GiB, line.RamBytes);
        Assert.Equal("memory-backend-ram", line.MachineBackend!.Type);
        Assert.Equal("32", Assert.Single(line.Devices, d => d["driver"] == "VGA")["vgamem_mb"]);
        Assert.Empty(line.UnmodelledMemory);
        Assert.Empty(line.Errors);

        var numa = QemuCommandLine.Parse([
            "qemu-system-x86_64", "-machine", "pc-i440fx-7.2", "-m", "1024",
            "-object", """{"qom-type":"memory-backend-memfd","id":"ram-node0","size":1073741824}""",
            "-numa", "node,nodeid=0,cpus=0-1,memdev=ram-node0",
        ]);
        Assert.Equal("memory-backend-memfd", numa.MachineBackend!.Type);
        Assert.Equal(GiB, numa.RamBytes);
        Assert.Empty(numa.UnmodelledMemory);
    }

    /// <summary>Expected splits worked out by hand from pc_q35.c and pc_piix.c (QEMU 7.2).</summary>
    [Theory]
    [InlineData("q35", 512, 0UL, 512 * MiB, 0UL)]
    [InlineData("q35", 2048, 0UL, 2 * GiB, 0UL)]
    [InlineData("q35", 2815, 0UL, 2815 * MiB, 0UL)] // below 0xb0000000: all low
    [InlineData("q35", 2816, 0UL, 2 * GiB, 768 * MiB)] // exactly 0xb0000000: split at 2 GiB
    [InlineData("q35", 3072, 0UL, 2 * GiB, GiB)]
    [InlineData("q35", 2048, 1 * GiB, 1 * GiB, GiB)] // max-ram-below-4g caps the low part
    [InlineData("pc", 3072, 0UL, 3 * GiB, 0UL)]
    [InlineData("pc", 3583, 0UL, 3583 * MiB, 0UL)] // below 0xe0000000: all low
    [InlineData("pc", 3584, 0UL, 3 * GiB, 512 * MiB)] // gigabyte alignment caps 3.5 GiB at 3 GiB
    [InlineData("pc", 4096, 0UL, 3 * GiB, GiB)]
    [InlineData("pc", 4096, 2 * GiB, 2 * GiB, 2 * GiB)]
    [InlineData("pc-1.7", 4096, 0UL, 3584 * MiB, 512 * MiB)] // no gigabyte alignment before 2.0
    public void LayoutsFollowQemusSplitRules(string machine, int memoryMiB, ulong maxBelow4G, ulong below, ulong above)
    {
        var arguments = new List<string> { "qemu-system-x86_64", "-m", $"{memoryMiB}M", "-machine", machine + (maxBelow4G > 0 ? $",max-ram-below-4g={maxBelow4G}" : "") };
        var line = QemuCommandLine.Parse(arguments);
        var layout = GuestMemoryLayout.ForMachine(line.Family, line.RamBytes, line.MaxRamBelow4G, line.GigabyteAlign, machine);
        Assert.Equal(new GuestRamRange(0, below, 0), layout.Ranges[0]);
        if (above == 0)
        {
            Assert.Single(layout.Ranges);
        }
        else
        {
            Assert.Equal(new GuestRamRange(4 * GiB, above, below), layout.Ranges[1]);
        }
    }

    [Fact]
    public void LayoutOverridesAreParsedOrRefused()
    {
        var (family, explicitLayout, ram) = GuestMemoryLayout.ParseOverride("0x100000000-0x13fffffff@0x80000000, 0x0-0x7fffffff@0,ram=0x7f0000000000", "core");
        Assert.Equal(QemuMachineFamily.Unknown, family);
        Assert.Equal(0x7f0000000000UL, ram);
        Assert.Equal([new GuestRamRange(0, 2 * GiB, 0), new GuestRamRange(4 * GiB, GiB, 2 * GiB)], explicitLayout!.Ranges);
        Assert.Equal(3 * GiB, explicitLayout.RamBytes);
        Assert.Equal(QemuMachineFamily.Q35, GuestMemoryLayout.ParseOverride("q35", "core").Family);

        foreach (var bad in new[] { "microvm", "0x0-0x1000", "0x2000-0x1000@0", "0x0-0xfff@0,0x800-0x1fff@0x1000", "q35,0x0-0xfff@0", "ram=zz" })
        {
            var error = Assert.Throws<ProcessCoreException>(() => GuestMemoryLayout.ParseOverride(bad, "core"));
            Assert.Equal(ProcessCoreException.LayoutInvalid, error.ErrorId);
        }
    }

    [Fact]
    public void RamIsFoundBySizeNeverByContents()
    {
        const uint rw = CoreSegment.Read | CoreSegment.Write;
        var layout = GuestMemoryLayout.ForMachine(QemuMachineFamily.Q35, GiB, null, true, "q35");
        var tcgBuffer = new CoreSegment(0x7f0000000000, GiB, 0, GiB, rw | CoreSegment.Execute);
        var anonymous = new CoreSegment(0x7f1000000000, GiB, 0, GiB, rw);
        var memfd = new CoreSegment(0x7f2000000000, GiB, 0, GiB, rw);
        var names = new Dictionary<ulong, string> { [memfd.VirtualAddress] = "/memfd:memory-backend-memfd (deleted)" };
        string? Name(ulong address) => names.GetValueOrDefault(address);

        // The executable TCG code buffer of the same size is never RAM.
        Assert.Equal(anonymous, GuestRamLocator.Locate([tcgBuffer, anonymous], Name, layout, null, "core"));

        // Two candidates: the backend type named on the command line decides; without one, the user must.
        var withMemfd = QemuCommandLine.Parse(["qemu-system-x86_64", "-object", "memory-backend-memfd,id=ram0,size=1G", "-machine", "q35,memory-backend=ram0"]);
        Assert.Equal(memfd, GuestRamLocator.Locate([anonymous, memfd], Name, layout, withMemfd, "core"));
        var twoAnonymous = new CoreSegment(0x7f3000000000, GiB, 0, GiB, rw);
        var error = Assert.Throws<ProcessCoreException>(() => GuestRamLocator.Locate([anonymous, twoAnonymous], Name, layout, null, "core"));
        Assert.Equal(ProcessCoreException.LayoutAmbiguous, error.ErrorId);
        Assert.Contains("ram=0x7f1000000000", error.Remedy!.Template);
        var named = new GuestMemoryLayout(layout.Ranges, layout.Description, twoAnonymous.VirtualAddress);
        Assert.Equal(twoAnonymous, GuestRamLocator.Locate([anonymous, twoAnonymous], Name, named, null, "core"));

        error = Assert.Throws<ProcessCoreException>(() => GuestRamLocator.Locate([tcgBuffer], Name, layout, null, "core"));
        Assert.Equal(ProcessCoreException.LayoutAmbiguous, error.ErrorId);
    }

    [Fact]
    public void SystemdCoredumpFileNamesGiveCommUidBootIdPidTimeAndCompression()
    {
        // As systemd 252 names them (src/coredump/coredump.c): comm escaped, boot id, time in microseconds.
        var name = SystemdCoreFileName.TryParse("core.qemu-system-x86.64055.0123456789abcdef0123456789abcdef.4242.1700000000123456.zst");
        Assert.NotNull(name);
        Assert.Equal("qemu-system-x86", name.Comm);
        Assert.True(name.IsQemu);
        Assert.Equal(64055, name.Uid);
        Assert.Equal("0123456789abcdef0123456789abcdef", name.BootId);
        Assert.Equal(4242, name.Pid);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1700000000123).AddTicks(4560), name.Time);
        Assert.Equal(VmDebug.CoreFileCompression.Zstd, name.Compression);

        var plain = SystemdCoreFileName.TryParse("core.my\\x2eapp.0.0123456789abcdef0123456789abcdef.1.1700000000000000");
        Assert.Equal("my.app", plain!.Comm);
        Assert.False(plain.IsQemu);
        Assert.Equal(VmDebug.CoreFileCompression.None, plain.Compression);

        Assert.Null(SystemdCoreFileName.TryParse("core"));
        Assert.Null(SystemdCoreFileName.TryParse("core.qemu-system-x86.0.0123456789ABCDEF0123456789abcdef.1.1.zst"));
        Assert.Null(SystemdCoreFileName.TryParse("core.qemu-system-x86.0.0123456789abcdef0123456789abcdef.1.1.gz"));
        Assert.Null(SystemdCoreFileName.TryParse("core.qemu-system-x86.0.0123456789abcdef0123456789abcdef.0.1.zst"));
    }

    [Fact]
    public void ArbitraryCommandLinesAndLayoutsNeverFailOtherwise()
    {
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), Prop.ForAll<string[]>(argv =>
        {
            var line = QemuCommandLine.Parse(["qemu-system-x86_64", .. argv.Select(a => a ?? "")]);
            _ = line.RamBytes;
            _ = line.Family;
        }));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), Prop.ForAll<string>(text =>
        {
            try
            {
                GuestMemoryLayout.ParseOverride(text ?? "", "core");
            }
            catch (ProcessCoreException e) when (e.ErrorId == ProcessCoreException.LayoutInvalid)
            {
            }
        }));
    }
}
