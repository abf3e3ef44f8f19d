using System.Diagnostics;
using System.Net.Sockets;

namespace VmDebug.Tests.Support;

public static class UnixSockets
{
    /// <summary>Connects to a Unix socket, retrying until something listens there or <paramref name="patience"/> runs out.</summary>
    public static async Task<Socket> ConnectWhenListeningAsync(string path, TimeSpan patience, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
                return socket;
            }
            catch (SocketException) when (clock.Elapsed < patience)
            {
                socket.Dispose();
                await Task.Delay(20, cancellationToken);
            }
        }
    }
}
