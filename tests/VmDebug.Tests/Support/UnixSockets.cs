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

    /// <summary>
    /// Whether a socket listens at <paramref name="path"/>, from /proc/net/unix (flag __SO_ACCEPTCON), without
    /// connecting: QEMU creates its socket file (bind) a moment before it listens, and a probe connection would take
    /// the monitor's one client slot and its greeting.
    /// </summary>
    public static bool IsListening(string path)
    {
        const int AcceptConnections = 0x10000;
        foreach (var line in File.ReadLines("/proc/net/unix").Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 8 && fields[7] == path && (Convert.ToInt32(fields[3], 16) & AcceptConnections) != 0)
            {
                return true;
            }
        }
        return false;
    }
}
