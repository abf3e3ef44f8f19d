using System.Net.Sockets;

namespace VmDebug.Engine.Kmsg;

/// <summary>
/// Listens on a Unix socket. Used for hybrid vsock: for a guest-initiated connection to host port P the VMM
/// connects to "&lt;uds&gt;_P" and then relays the guest's bytes as they are, with no handshake (the
/// "CONNECT P" handshake is only for host-initiated connections).
/// </summary>
internal sealed class UnixSocketListener : KmsgTransport
{
    private readonly Socket _listener;
    private readonly string _path;
    private readonly CancellationTokenSource _stop = new();
    private Task _acceptLoop = Task.CompletedTask;
    private int _disposed;

    private UnixSocketListener(Socket listener, string path)
    {
        _listener = listener;
        _path = path;
    }

    public static UnixSocketListener Open(string path)
    {
        if (File.Exists(path) || Directory.Exists(path))
        {
            throw new KmsgTransportException("KmsgSocketPathExists", ErrorKind.ResourceExists,
                $"Cannot listen on {path}: something already exists there (remove it if it is a stale socket).", path);
        }

        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(16);
            return new UnixSocketListener(listener, path);
        }
        catch (SocketException e)
        {
            listener.Dispose();
            throw new KmsgTransportException("KmsgListenFailed", ErrorKind.ConnectionError, $"Cannot listen on {path}: {e.Message}.", path, e);
        }
    }

    public override void Start(KmsgPipeline pipeline) => _acceptLoop = AcceptLoopAsync(pipeline);

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        File.Delete(_path);
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync(KmsgPipeline pipeline)
    {
        Exception? fault = null;
        try
        {
            while (true)
            {
                var connection = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
                pipeline.Accept(connection, _path);
            }
        }
        catch (Exception e) when (_stop.IsCancellationRequested && e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
        catch (SocketException e)
        {
            fault = new KmsgTransportException("KmsgAcceptFailed", ErrorKind.ConnectionError, $"Accepting on {_path} failed: {e.Message}.", _path, e);
        }
        finally
        {
            pipeline.CompleteSource(fault);
        }
    }
}
