using System.Net.Sockets;
using VmDebug.Engine.Qmp;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Qmp;

/// <summary>
/// A socket bound but not yet listening (the moment QEMU's socket file exists before it accepts) is not ready; one
/// that listens is, also at a path with spaces; and asking never connects, so no client slot is taken.
/// </summary>
public sealed class QmpSocketListeningTests
{
    [Theory]
    [InlineData("qmp.sock")]
    [InlineData("a guest's qmp.sock")]
    public void OnlyAListeningSocketIsReadyAndAskingDoesNotConnect(string name)
    {
        using var directory = new TempDirectory();
        var path = directory.File(name);
        Assert.False(QmpSocketListening.IsListening(path));

        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        Assert.True(File.Exists(path));
        Assert.False(QmpSocketListening.IsListening(path));

        socket.Listen(1);
        Assert.True(QmpSocketListening.IsListening(path));
        Assert.False(socket.Poll(100_000, SelectMode.SelectRead), "IsListening connected to the socket");
    }
}
