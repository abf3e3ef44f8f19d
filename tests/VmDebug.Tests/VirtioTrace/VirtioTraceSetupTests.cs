using System.Xml.Linq;
using VmDebug.Engine;
using VmDebug.Engine.Files;
using VmDebug.Engine.VirtioTrace;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.VirtioTrace;

public class VirtioTraceSetupTests
{
    private static string Sample(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "CrashConfiguration", "TestData", name));

    private const string DomainWithAgentChannel = """
        <domain type='kvm'>
          <name>traced</name>
          <memory unit='KiB'>524288</memory>
          <vcpu>2</vcpu>
          <os><type arch='x86_64' machine='q35'>hvm</type></os>
          <devices>
            <emulator>/usr/bin/qemu-system-x86_64</emulator>
            <!-- the guest agent keeps its port -->
            <channel type='unix'>
              <target type='virtio' name='org.qemu.guest_agent.0'/>
              <address type='virtio-serial' controller='0' bus='0' port='1'/>
            </channel>
            <x-unknown-device keep='yes'/>
          </devices>
        </domain>
        """;

    [Fact]
    public void ChannelsStartAtPortOneWithTheAgentsNames()
    {
        var channels = VirtioTraceChannelPlanner.Plan(3, "/srv/trace", metadata: true);
        Assert.Equal(["agent-ctl-path", "trace-path-cpu0", "trace-path-cpu1", "trace-path-cpu2", "trace-metadata"], channels.Select(c => c.Name));
        Assert.Equal([1, 2, 3, 4, 5], channels.Select(c => c.Port));
        Assert.Equal("/srv/trace/trace-path-cpu1.out", channels[2].HostOutput);
        Assert.Equal("/srv/trace/agent-ctl-path.in", channels[0].HostInput);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(257)]
    public void ACpuCountTheAgentCannotServeIsRefused(int cpus)
    {
        var e = Assert.Throws<VmDebugException>(() => VirtioTraceChannelPlanner.Plan(cpus, "/srv/trace", false));
        Assert.Equal("VirtioTraceCpuCountInvalid", e.ErrorId);
    }

    [Fact]
    public void QemuArgumentsNameEachPortAndChardev()
    {
        var args = VirtioTraceChannelPlanner.QemuArguments(VirtioTraceChannelPlanner.Plan(1, "/srv/a,b", false));
        Assert.Equal(
        [
            "-device", "virtio-serial-pci,id=vmdebug-trace-serial",
            "-chardev", "pipe,id=vmdebug-agent-ctl-path,path=/srv/a,,b/agent-ctl-path",
            "-device", "virtserialport,bus=vmdebug-trace-serial.0,nr=1,chardev=vmdebug-agent-ctl-path,name=agent-ctl-path",
            "-chardev", "pipe,id=vmdebug-trace-path-cpu0,path=/srv/a,,b/trace-path-cpu0",
            "-device", "virtserialport,bus=vmdebug-trace-serial.0,nr=2,chardev=vmdebug-trace-path-cpu0,name=trace-path-cpu0",
        ], args);
        var many = VirtioTraceChannelPlanner.QemuArguments(VirtioTraceChannelPlanner.Plan(64, "/srv/t", false));
        Assert.Equal("virtio-serial-pci,id=vmdebug-trace-serial,max_ports=66", many[1]);
    }

    [Fact]
    public void DomainEditSkipsTakenPortsKeepsTheRestAndIsIdempotent()
    {
        using var host = new TestHost();
        var xmlPath = host.Write("traced.xml", DomainWithAgentChannel);
        var dir = Path.Combine(host.Root, "fifos");
        using var change = VirtioTraceSetupCommands.Plan(new() { XmlPath = xmlPath, CpuCount = 2, Directory = dir });
        Assert.Equal([2, 3, 4], change.Preview.Channels.Select(c => c.Port));
        Assert.Equal(6, change.Preview.FifosCreated.Count);
        Assert.False(Directory.Exists(dir)); // planning writes nothing
        Assert.Contains("+    <channel type='pipe'><source path='" + dir + "/agent-ctl-path'/>", change.Describe());

        var setup = change.Apply(CancellationToken.None);
        Assert.Equal(6, setup.FifosCreated.Count);
        var doc = XDocument.Load(xmlPath);
        var pipes = doc.Descendants("channel").Where(c => (string?)c.Attribute("type") == "pipe").ToList();
        Assert.Equal(["agent-ctl-path", "trace-path-cpu0", "trace-path-cpu1"], pipes.Select(c => (string?)c.Element("target")!.Attribute("name")));
        Assert.Equal([dir + "/trace-path-cpu0"], pipes.Where(c => (string?)c.Element("target")!.Attribute("name") == "trace-path-cpu0").Select(c => (string?)c.Element("source")!.Attribute("path")));
        Assert.Single(doc.Descendants("x-unknown-device"));
        Assert.Contains("<!-- the guest agent keeps its port -->", File.ReadAllText(xmlPath));
        Assert.Single(Directory.GetFiles(host.Root, "traced.xml.vmdebug-*.bak"));

        using var again = VirtioTraceSetupCommands.Plan(new() { XmlPath = xmlPath, CpuCount = 2, Directory = dir });
        Assert.False(again.HasChanges);
        Assert.EndsWith("no change.\n", again.Describe());

        // A different CPU count replaces the channels rather than adding to them.
        using var grown = VirtioTraceSetupCommands.Plan(new() { XmlPath = xmlPath, CpuCount = 3, Directory = dir });
        grown.Apply(CancellationToken.None);
        Assert.Equal(4, XDocument.Load(xmlPath).Descendants("channel").Count(c => (string?)c.Attribute("type") == "pipe"));
    }

    [Theory]
    [InlineData("rich-domain.xml", 2)]
    [InlineData("rich-domain.xml", 40)] // more ports than virtio-serial's default 31: the controller gets ports=
    public void EditedDomainPassesVirtXmlValidate(string sample, int cpus)
    {
        using var host = new TestHost();
        var xmlPath = host.Write("domain.xml", Sample(sample));
        using var change = VirtioTraceSetupCommands.Plan(new() { XmlPath = xmlPath, CpuCount = cpus, Directory = Path.Combine(host.Root, "fifos"), Metadata = true });
        change.Apply(CancellationToken.None);
        var (code, stdout, stderr) = TestHost.Run("virt-xml-validate", xmlPath, "domain");
        Assert.True(code == 0, stdout + stderr + "\n" + File.ReadAllText(xmlPath));
        if (cpus > 28)
        {
            Assert.Contains("<controller type='virtio-serial' index='0' ports='43'/>", File.ReadAllText(xmlPath));
        }
    }

    [Fact]
    public void FifosAre0600AndNeverTakeTheirPlaceFromSomethingElse()
    {
        using var host = new TestHost();
        var dir = Path.Combine(host.Root, "fifos");
        var channels = VirtioTraceChannelPlanner.Plan(1, dir, false);
        var created = VirtioTraceFifos.Create(dir, channels);
        Assert.Equal(4, created.Count);
        foreach (var path in created)
        {
            var status = UnixFile.LStat(path)!.Value;
            Assert.Equal((UnixFileStatus.Fifo, 0x180u), (status.Type, status.Permissions));
        }
        Assert.Empty(VirtioTraceFifos.Create(dir, channels)); // a second run keeps them

        File.Delete(channels[1].HostOutput);
        File.WriteAllText(channels[1].HostOutput, "a file");
        Assert.Equal("VirtioTraceFifoConflict", Assert.Throws<VmDebugException>(() => VirtioTraceFifos.Create(dir, channels)).ErrorId);
    }

    [Fact]
    public void TheDirectoryMustBeARealDirectoryOnlyTheCallerCanWrite()
    {
        using var host = new TestHost();
        var real = Path.Combine(host.Root, "real");
        Directory.CreateDirectory(real);
        var link = Path.Combine(host.Root, "link");
        File.CreateSymbolicLink(link, real);
        Assert.Equal("VirtioTraceDirectoryInvalid",
            Assert.Throws<VmDebugException>(() => VirtioTraceFifos.Create(link, VirtioTraceChannelPlanner.Plan(1, link, false))).ErrorId);
        File.SetUnixFileMode(real, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute);
        Assert.Equal("VirtioTraceDirectoryWritable",
            Assert.Throws<VmDebugException>(() => VirtioTraceFifos.Create(real, VirtioTraceChannelPlanner.Plan(1, real, false))).ErrorId);
        Assert.Empty(Directory.GetFileSystemEntries(real));
    }
}
