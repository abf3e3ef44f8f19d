using System.Net.Sockets;

namespace VmDebug.Engine.Kmsg;

/// <summary>Client of a QEMU chardev socket: one connection, and the source ends when it closes.</summary>
internal sealed class ChardevClient : KmsgTransport
{
    private readonly string _guest;
    private Socket? _socket;

    private ChardevClient(Socket socket, string guest)
    {
        _socket = socket;
        _guest = guest;
    }

    /// <param name="guestName">Names the guest in records (e.g. its libvirt domain); null: the socket path.</param>
    public static async Task<ChardevClient> ConnectAsync(string path, string? guestName, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
            return new ChardevClient(socket, guestName ?? path);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            // .NET reports a missing Unix socket file as "Cannot assign requested address": say what is wrong.
            throw File.Exists(path)
                ? new KmsgTransportException("KmsgConnectFailed", ErrorKind.ConnectionError, $"Cannot connect to the chardev socket {path}: {e.Message}.", path, e)
                : new KmsgTransportException("KmsgSocketNotFound", ErrorKind.ObjectNotFound, $"Cannot connect to the chardev socket {path}: it does not exist (is the guest running?).", path, e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public override void Start(KmsgPipeline pipeline)
    {
        var socket = Interlocked.Exchange(ref _socket, null) ?? throw new InvalidOperationException("The chardev connection was started already.");
        pipeline.Accept(socket, _guest);
        pipeline.CompleteSource(null);
    }

    public override ValueTask DisposeAsync()
    {
        // After Start the pipeline owns the socket and closes it.
        Interlocked.Exchange(ref _socket, null)?.Dispose();
        return ValueTask.CompletedTask;
    }
}
