using VmDebug.Engine;
using VmDebug.Engine.Libvirt;

namespace VmDebug.Tests.Libvirt;

public class LibvirtErrorTests
{
    [Theory]
    [InlineData(9_000_000u, "9.0.0")]
    [InlineData(7_002_022u, "7.2.22")]
    [InlineData(10_010_999u, "10.10.999")]
    public void PackedVersionsDecode(uint packed, string expected) =>
        Assert.Equal(Version.Parse(expected), LibvirtConnection.DecodeVersion(packed));

    [Theory]
    [InlineData(42, 10, "LibvirtDomainNotFound", ErrorKind.ObjectNotFound)]
    [InlineData(55, 10, "LibvirtOperationInvalid", ErrorKind.InvalidOperation)]
    [InlineData(84, 10, "LibvirtUnsupported", ErrorKind.InvalidArgument)]
    [InlineData(74, 10, "LibvirtUnsupported", ErrorKind.InvalidArgument)]
    [InlineData(45, 13, "LibvirtAuthenticationFailed", ErrorKind.ConnectionError)]
    [InlineData(38, 7, "LibvirtConnectionFailed", ErrorKind.ConnectionError)]
    [InlineData(38, 10, "LibvirtCallFailed", ErrorKind.NotSpecified)]
    [InlineData(27, 20, "LibvirtXmlInvalid", ErrorKind.InvalidData)]
    [InlineData(9999, 0, "LibvirtCallFailed", ErrorKind.NotSpecified)]
    public void LibvirtCodesMapToErrorKinds(int code, int domain, string errorId, ErrorKind kind) =>
        Assert.Equal((errorId, kind), LibvirtErrors.Classify(code, domain));

    [Fact]
    public void MissingLibraryNamesTheAptPackage()
    {
        var e = Assert.Throws<LibvirtException>(() => LibvirtRuntime.LoadOrThrow("libvirt-vmdebug-absent.so.0"));
        Assert.Equal("LibvirtNotInstalled", e.ErrorId);
        Assert.Equal(ErrorKind.NotInstalled, e.Kind);
        Assert.Contains("'libvirt0'", e.Message);
        Assert.Equal("libvirt-vmdebug-absent.so.0", e.Target);
    }
}
