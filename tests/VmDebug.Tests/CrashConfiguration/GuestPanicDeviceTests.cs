using System.Xml.Linq;
using VmDebug.Engine;
using VmDebug.Engine.CrashConfiguration;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.CrashConfiguration;

public class GuestPanicDeviceTests
{
    private static string Sample(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "CrashConfiguration", "TestData", name));
    private static readonly Version Libvirt90 = new(9, 0, 0);

    private static GuestPanicRequest Set(string xml, TestHost host) => new()
    {
        DomainXml = xml,
        Model = GuestPanicModel.Auto,
        OnCrash = CrashAction.CoredumpDestroy,
        VmcoreInfo = true,
        LibvirtVersion = Libvirt90,
        ConfigPath = Path.Combine(host.Root, "absent-qemu.conf"),
        Paths = host.Paths,
    };

    [Theory]
    [InlineData("rich-domain.xml")]
    [InlineData("unknown-parts-domain.xml")]
    public void UneditedDocumentsSerialiseByteForByte(string sample)
    {
        var xml = Sample(sample);
        Assert.Equal(xml, DomainXmlDocument.Parse(xml).ToString());
    }

    [Fact]
    public void EditedRichDomainPassesVirtXmlValidate()
    {
        using var host = new TestHost();
        var plan = GuestPanicConfigurator.Plan(Set(Sample("rich-domain.xml"), host) with { DumpCore = DumpCoreEdit.On });
        var file = host.Write("edited.xml", plan.UpdatedXml);
        var (code, stdout, stderr) = TestHost.Run("virt-xml-validate", file, "domain");
        Assert.True(code == 0, stdout + stderr + "\n" + plan.UpdatedXml);
    }

    [Fact]
    public void EditsChangeOnlyTheCrashRelatedLines()
    {
        using var host = new TestHost();
        var original = Sample("rich-domain.xml");
        var plan = GuestPanicConfigurator.Plan(Set(original, host) with { DumpCore = DumpCoreEdit.On });

        var added = plan.Diff.Split('\n').Where(l => l.StartsWith('+') && !l.StartsWith("+++")).ToList();
        var removed = plan.Diff.Split('\n').Where(l => l.StartsWith('-') && !l.StartsWith("---")).ToList();
        Assert.Equal(["-  <memory unit='KiB'>524288</memory>"], removed);
        Assert.Equal(
        [
            "+  <memory unit='KiB' dumpCore='on'>524288</memory>",
            "+    <vmcoreinfo state='on'/>",
            "+  <on_crash>coredump-destroy</on_crash>",
            "+    <panic model='isa'/>",
        ], added);

        // Everything else is identical node for node, including comments, metadata namespaces and whitespace.
        var before = XDocument.Parse(original, LoadOptions.PreserveWhitespace);
        var after = XDocument.Parse(plan.UpdatedXml, LoadOptions.PreserveWhitespace);
        Assert.Equal(before.DescendantNodes().OfType<XComment>().Select(c => c.Value), after.DescendantNodes().OfType<XComment>().Select(c => c.Value));
        Assert.True(XNode.DeepEquals(before.Root!.Element("metadata"), after.Root!.Element("metadata")));
        Assert.True(XNode.DeepEquals(before.Root.Element("{http://libvirt.org/schemas/domain/qemu/1.0}commandline"),
            after.Root.Element("{http://libvirt.org/schemas/domain/qemu/1.0}commandline")));

        // on_crash lands after on_reboot, where libvirt writes it.
        var names = after.Root.Elements().Select(e => e.Name.LocalName).ToList();
        Assert.Equal(names.IndexOf("on_reboot") + 1, names.IndexOf("on_crash"));

        var c = plan.Configuration;
        Assert.Equal("vmdebug-rich", c.Domain);
        Assert.Equal(GuestPanicModel.Isa, c.PanicModel);
        Assert.Equal(CrashAction.CoredumpDestroy, c.OnCrash);
        Assert.True(c.VmcoreInfo);
        Assert.Equal("on", c.DumpCore);
        Assert.Equal("pc-q35-7.2", c.Machine);
        Assert.Equal("x86_64", c.Arch);
        Assert.Equal(512L << 20, c.MemoryBytes);
    }

    [Fact]
    public void SecondRunIsIdempotent()
    {
        using var host = new TestHost();
        var first = GuestPanicConfigurator.Plan(Set(Sample("rich-domain.xml"), host));
        var second = GuestPanicConfigurator.Plan(Set(first.UpdatedXml, host));
        Assert.False(second.HasChanges);
        Assert.Equal("", second.Diff);
        Assert.Equal(first.UpdatedXml, second.UpdatedXml);
    }

    [Fact]
    public void UnknownElementsAttributesAndNamespacesSurvive()
    {
        using var host = new TestHost();
        var original = Sample("unknown-parts-domain.xml");
        var plan = GuestPanicConfigurator.Plan(Set(original, host) with { Model = GuestPanicModel.Pvpanic, DumpCore = DumpCoreEdit.On, LibvirtVersion = new Version(9, 1, 0) });
        var x = plan.UpdatedXml;
        Assert.Contains("<domain type=\"kvm\" vendor:flavour=\"custom\" xmlns:vendor=\"urn:example:vendor\">", x);
        Assert.Contains("<memory unit=\"MiB\" extra=\"kept\" dumpCore=\"on\">2048</memory>", x);
        Assert.Contains("<vendor:hint level=\"2\">do not touch</vendor:hint>", x);
        Assert.Contains("<futureElement z=\"1\" a=\"2\"><nested/></futureElement>", x);
        Assert.Contains("<features><acpi/><futureFeature state=\"on\"/><vmcoreinfo state=\"on\"/></features>", x);
        // An existing ISA panic device is retargeted to the model asked for; its ISA address goes, its unknown attribute stays.
        Assert.Contains("<panic model=\"pvpanic\" futureAttr=\"x\"/>", x);
        Assert.Contains("<!-- devices end -->", x);
        Assert.Contains("<on_crash>coredump-destroy</on_crash>", x);
        Assert.Equal(2048L << 20, plan.Configuration.MemoryBytes);
    }

    [Fact]
    public void AutoAndUnnamedSettingsLeaveAnExistingPanicDeviceAndVmcoreInfo()
    {
        using var host = new TestHost();
        var original = Sample("unknown-parts-domain.xml");
        var withVmcoreInfoOff = GuestPanicConfigurator.Plan(Set(original, host) with { Model = null, OnCrash = null, VmcoreInfo = false }).UpdatedXml;

        // Only on_crash named: the ISA device stays (libvirt 9.1 would allow pvpanic) and vmcoreinfo stays off.
        var onCrashOnly = GuestPanicConfigurator.Plan(Set(withVmcoreInfoOff, host) with { Model = null, VmcoreInfo = null, OnCrash = CrashAction.Restart, LibvirtVersion = new Version(9, 1, 0) });
        Assert.Equal(GuestPanicModel.Isa, onCrashOnly.Configuration.PanicModel);
        Assert.False(onCrashOnly.Configuration.VmcoreInfo);
        Assert.Equal(["on_crash = restart"], onCrashOnly.Configuration.Changes);

        // Auto named explicitly: still no retargeting of the device the domain has.
        var auto = GuestPanicConfigurator.Plan(Set(withVmcoreInfoOff, host) with { Model = GuestPanicModel.Auto, VmcoreInfo = null, OnCrash = null, LibvirtVersion = new Version(9, 1, 0) });
        Assert.False(auto.HasChanges);
        Assert.Equal(GuestPanicModel.Isa, auto.Configuration.PanicModel);
    }

    [Fact]
    public void ElementsAreCreatedWithTheDocumentsIndentation()
    {
        using var host = new TestHost();
        const string xml = "<domain type='kvm'>\n    <name>bare</name>\n    <memory>1048576</memory>\n    <os>\n        <type arch='x86_64'>hvm</type>\n    </os>\n    <devices/>\n</domain>\n";
        var plan = GuestPanicConfigurator.Plan(Set(xml, host));
        Assert.Equal(
            "<domain type='kvm'>\n    <name>bare</name>\n    <memory>1048576</memory>\n    <os>\n        <type arch='x86_64'>hvm</type>\n    </os>\n" +
            "    <features>\n        <vmcoreinfo state='on'/>\n    </features>\n    <on_crash>coredump-destroy</on_crash>\n" +
            "    <devices>\n        <panic model='isa'/>\n    </devices>\n</domain>\n", plan.UpdatedXml);
    }

    [Theory]
    [InlineData("9.0.0", "x86_64", "pc-q35-7.2", GuestPanicModel.Auto, GuestPanicModel.Isa)]
    [InlineData("9.1.0", "x86_64", "pc-q35-8.2", GuestPanicModel.Auto, GuestPanicModel.Pvpanic)]
    [InlineData("9.1.0", "x86_64", "microvm", GuestPanicModel.Auto, GuestPanicModel.Isa)]
    [InlineData("9.0.0", "ppc64le", "pseries-7.2", GuestPanicModel.Auto, GuestPanicModel.Pseries)]
    [InlineData("9.0.0", "s390x", "s390-ccw-virtio", GuestPanicModel.Auto, GuestPanicModel.S390)]
    [InlineData("10.0.0", "aarch64", "virt", GuestPanicModel.Auto, GuestPanicModel.Pvpanic)]
    [InlineData("9.0.0", "x86_64", "pc", GuestPanicModel.Hyperv, GuestPanicModel.Hyperv)]
    public void AutoModelFollowsLibvirtArchAndMachine(string libvirt, string arch, string machine, GuestPanicModel requested, GuestPanicModel expected) =>
        Assert.Equal(expected, PanicModelSelector.Choose(requested, Version.Parse(libvirt), arch, machine, []));

    [Fact]
    public void PvpanicIsRefusedOnLibvirt90AndForeignModelsOnOtherArches()
    {
        var ex = Assert.Throws<PanicModelNotSupportedException>(() => PanicModelSelector.Choose(GuestPanicModel.Pvpanic, Libvirt90, "x86_64", "q35", []));
        Assert.Equal("PanicModelNotSupported", ex.ErrorId);
        Assert.Contains("9.1.0", ex.Message);
        Assert.Throws<PanicModelNotSupportedException>(() => PanicModelSelector.Choose(GuestPanicModel.Hyperv, Libvirt90, "aarch64", "virt", []));
        Assert.Throws<PanicModelNotSupportedException>(() => PanicModelSelector.Choose(GuestPanicModel.Auto, Libvirt90, "aarch64", "virt", []));
    }

    [Fact]
    public void CoredumpRestartWarnsAboutBootLoopsAndRunningDomainsWaitForNextBoot()
    {
        using var host = new TestHost();
        var plan = GuestPanicConfigurator.Plan(Set(Sample("rich-domain.xml"), host) with { OnCrash = CrashAction.CoredumpRestart, DomainIsRunning = true });
        Assert.True(plan.Configuration.TakesEffectAtNextBoot);
        Assert.Contains(plan.Configuration.Warnings, w => w.Contains("loops on a guest that panics at boot") && w.Contains("512 MiB"));
        Assert.Contains(plan.Configuration.Warnings, w => w.Contains("next boot"));
    }

    [Fact]
    public void OfflineFileIsReplacedAtomicallyAndGetReadsItBack()
    {
        using var host = new TestHost();
        var path = host.Write("vm.xml", Sample("rich-domain.xml"));
        var options = Set("", host) with { DomainXml = null, XmlPath = path };
        var applied = GuestPanicConfigurator.Plan(options).Apply(null, TestContext.Current.CancellationToken);
        Assert.Equal(path, applied.Path);
        Assert.False(applied.TakesEffectAtNextBoot);
        var read = GuestPanicConfigurator.Read(new GuestPanicRequest { XmlPath = path, ConfigPath = options.ConfigPath, Paths = host.Paths });
        Assert.Equal(GuestPanicModel.Isa, read.PanicModel);
        Assert.Equal(CrashAction.CoredumpDestroy, read.OnCrash);
        Assert.Single(Directory.GetFiles(host.Root, "vm.xml.vmdebug-*.bak"));
        Assert.Equal(Sample("rich-domain.xml"), File.ReadAllText(Directory.GetFiles(host.Root, "vm.xml.vmdebug-*.bak")[0]));
    }

    [Fact]
    public void LibvirtModeHandsTheNewXmlToTheDefineCallback()
    {
        using var host = new TestHost();
        var plan = GuestPanicConfigurator.Plan(Set(Sample("rich-domain.xml"), host));
        string? defined = null;
        plan.Apply(x => defined = x, TestContext.Current.CancellationToken);
        Assert.Equal(plan.UpdatedXml, defined);
    }

    [Fact]
    public void NotADomainIsATypedError()
    {
        var ex = Assert.Throws<VmDebugException>(() => DomainXmlDocument.Parse("<network/>"));
        Assert.Equal("DomainXmlInvalid", ex.ErrorId);
        Assert.Equal("DomainXmlInvalid", Assert.Throws<VmDebugException>(() => DomainXmlDocument.Parse("<domain><name>x</domain>")).ErrorId);
    }
}
