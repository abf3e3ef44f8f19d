using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace VmDebug.Engine.CrashConfiguration;

/// <summary>Which process listens on a Unix socket: SO_PEERCRED of a connection names the process that called listen().</summary>
public static class UnixSocketPeer
{
    private const int SolSocket = 1;  // asm-generic/socket.h
    private const int SoPeerCred = 17;

    /// <summary>
    /// The PID of the process listening on <paramref name="socketPath"/>, or null when nothing accepts there.
    /// Under systemd socket activation this is PID 1, which created the socket.
    /// </summary>
    public static int? TryGetListenerProcessId(string socketPath)
    {
        if (!File.Exists(socketPath))
        {
            return null;
        }

        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        }
        catch (SocketException)
        {
            return null;
        }
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        Span<byte> credentials = stackalloc byte[12];
        var length = socket.GetRawSocketOption(SolSocket, SoPeerCred, credentials);
        return length >= 4 ? MemoryMarshal.Read<int>(credentials) : null;
    }
}
