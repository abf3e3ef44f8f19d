using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using VmDebug.Engine.Kmsg;
using VmDebug.Engine.Native;

namespace VmDebug.Tests.Kmsg;

/// <summary>
/// AF_VSOCK on this machine: bind and listen work on CID_ANY, but nothing can connect (no vhost-vsock, no
/// loopback transport), so accepting is covered by the hybrid vsock tests that share the pipeline.
/// </summary>
public class VsockListenerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ListensOnCidAnyAndReleasesThePortOnCancellation()
    {
        var port = FreePort();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var reading = Task.Run(async () =>
        {
            await foreach (var unused in KmsgStream.ReadAsync(KmsgSource.Vsock(port, [3, 4]), cancellationToken: cancel.Token))
            {
            }
        }, Ct);

        var clock = Stopwatch.StartNew();
        while (TryBind(port))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the stream never bound vsock port {port}");
            await Task.Delay(20, Ct);
        }

        clock.Restart();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading.WaitAsync(TimeSpan.FromSeconds(5), Ct));
        TestContext.Current.TestOutputHelper?.WriteLine($"vsock listener stopped {clock.Elapsed.TotalMilliseconds:0.0} ms after cancel");
        Assert.True(TryBind(port), $"vsock port {port} is still bound after the stream ended");
    }

    [Fact]
    public async Task ReportsAPortInUse()
    {
        var port = FreePort();
        var holder = OpenBound(port);
        try
        {
            var error = await Assert.ThrowsAsync<KmsgTransportException>(async () =>
            {
                await foreach (var unused in KmsgStream.ReadAsync(KmsgSource.Vsock(port), cancellationToken: Ct))
                {
                }
            });
            Assert.Equal("VsockPortInUse", error.ErrorId);
            Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message);
        }
        finally
        {
            VsockNative.Close(holder);
        }
    }

    [Fact]
    public void AnAfVsockDescriptorCanBeDrivenThroughSocket()
    {
        // The accept path wraps each accepted descriptor this way; .NET itself refuses to create family 40.
        var fd = VsockNative.Socket(VsockNative.AfVsock, VsockNative.SockStream | VsockNative.SockCloexec, 0);
        SkipWithoutVsock(fd);
        using var socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
        Assert.Equal(SocketType.Stream, socket.SocketType);
        Assert.False(socket.Connected);
    }

    internal static uint FreePort()
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var port = (uint)Random.Shared.Next(20_000, 60_000);
            if (TryBind(port))
            {
                return port;
            }
        }

        throw new InvalidOperationException("No free vsock port found");
    }

    internal static bool TryBind(uint port)
    {
        var fd = OpenBound(port);
        if (fd < 0)
        {
            return false;
        }

        VsockNative.Close(fd);
        return true;
    }

    /// <summary>An AF_VSOCK socket bound to CID_ANY:port, or -1 when the port is taken.</summary>
    internal static int OpenBound(uint port)
    {
        var fd = VsockNative.Socket(VsockNative.AfVsock, VsockNative.SockStream | VsockNative.SockCloexec, 0);
        SkipWithoutVsock(fd);
        var address = new VsockNative.SockaddrVm { Family = VsockNative.AfVsock, Port = port, Cid = VsockNative.CidAny };
        if (VsockNative.Bind(fd, ref address, 16) == 0 && VsockNative.Listen(fd, 1) == 0)
        {
            return fd;
        }

        VsockNative.Close(fd);
        return -1;
    }

    private static void SkipWithoutVsock(int fd)
    {
        if (fd < 0 && Marshal.GetLastPInvokeError() == VsockNative.Eafnosupport)
        {
            Assert.Skip("the kernel has no AF_VSOCK support (vsock module not loaded), so vsock cannot be tested here");
        }

        Assert.True(fd >= 0, $"socket(AF_VSOCK) failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
    }
}
