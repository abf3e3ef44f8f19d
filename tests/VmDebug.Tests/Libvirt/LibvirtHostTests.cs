using System.Net.Sockets;
using VmDebug.Engine;
using VmDebug.Engine.CrashConfiguration;
using VmDebug.Engine.Libvirt;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Libvirt;

public sealed class LibvirtHostTests
{
    [Theory]
    [InlineData("qemu:///system?socket=/tmp/a%20b/libvirt-sock", "/tmp/a b/libvirt-sock")]
    [InlineData("qemu:///system?mode=legacy&socket=/run/x-sock", "/run/x-sock")]
    [InlineData("qemu+ssh://host/system", null)]
    [InlineData("qemu+tcp://host/system?socket=/run/x-sock", null)]
    [InlineData("qemu+unix:///system?socket=/run/x-sock", "/run/x-sock")]
    [InlineData("qemu+ssh:///system", null)]
    [InlineData("qemu:///session", null)]
    public void SocketOfTheUriIsItsSocketParameterOrNoneForRemoteHosts(string uri, string? expected) =>
        Assert.Equal(expected, LibvirtHost.SocketOf(uri));

    [Fact]
    public void SystemUriReachesOneOfTheSystemSockets() =>
        Assert.Contains(LibvirtHost.SocketOf(null), new[] { "/run/libvirt/virtqemud-sock", "/run/libvirt/libvirt-sock" });

    [Fact]
    public void ListenerOfAUnixSocketIsTheProcessThatListens()
    {
        using var host = new TestHost();
        var path = Path.Combine(host.Root, "listening.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        Assert.Equal(Environment.ProcessId, UnixSocketPeer.TryGetListenerProcessId(path));
        listener.Close();
        Assert.Null(UnixSocketPeer.TryGetListenerProcessId(path));
        Assert.Null(UnixSocketPeer.TryGetListenerProcessId(Path.Combine(host.Root, "absent.sock")));
    }

    [Fact]
    public void RestartOfARemoteDaemonIsRefusedBeforeConnecting()
    {
        using var host = new TestHost();
        var conf = host.StockQemuConf();
        var e = Assert.Throws<VmDebugException>(() => CoreDumpCommands.PlanEnable(new CoreDumpRequest
        {
            ConfigPath = conf,
            ConnectionUri = "qemu+ssh://elsewhere.invalid/system",
            RestartDaemon = true,
            Paths = host.Paths,
        }));
        Assert.Equal("LibvirtDaemonNotLocal", e.ErrorId);
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
    }

    [Fact]
    public void RestartWhenTheDaemonIsNotRunningSaysSoAndPlansNoRestart()
    {
        using var host = new TestHost();
        var conf = host.StockQemuConf();
        var socket = Path.Combine(host.Root, "no-daemon-sock");
        var uri = $"qemu:///system?socket={socket}";

        using var change = CoreDumpCommands.PlanEnable(new CoreDumpRequest { ConfigPath = conf, ConnectionUri = uri, RestartDaemon = true, Paths = host.Paths });
        Assert.Null(change.Plan.Restart);
        Assert.Contains(change.Preview.Warnings, w => w.Contains($"{uri} is not running (no socket {socket})", StringComparison.Ordinal));

        var withDomain = Assert.Throws<VmDebugException>(() => CoreDumpCommands.PlanEnable(new CoreDumpRequest
        {
            ConfigPath = conf,
            ConnectionUri = uri,
            Domain = "web1",
            RestartDaemon = true,
            Paths = host.Paths,
        }));
        Assert.Equal(("LibvirtDaemonNotRunning", ErrorKind.ResourceUnavailable, (object)uri), (withDomain.ErrorId, withDomain.Kind, withDomain.Target));
    }
}
