using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;

namespace VmDebug.Engine.Qmp;

/// <summary>
/// The transport under a <see cref="QmpClient"/> (as QEMU's python/qemu/qmp/protocol.py is under qmp_client.py):
/// the socket, serialized writes, the reader task that hands each line on, and one close that records why the
/// connection ended and tells the client, which then fails every pending call.
/// </summary>
internal sealed class QmpConnection
{
    private readonly Socket _socket;
    private readonly int _maxMessageBytes;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _lifetime = new();
    private readonly Action<QmpException> _closed;
    private Task _readLoop = Task.CompletedTask;
    private QmpException? _closedReason;

    private QmpConnection(string socketPath, Socket socket, int maxMessageBytes, Action<QmpException> closed)
    {
        SocketPath = socketPath;
        _socket = socket;
        _maxMessageBytes = maxMessageBytes;
        _closed = closed;
        Reader = new QmpLineReader(socket, maxMessageBytes);
    }

    public string SocketPath { get; }

    /// <summary>Reads lines directly until <see cref="StartReading"/> (the handshake reads this way).</summary>
    public QmpLineReader Reader { get; }

    public QmpException? ClosedReason => Volatile.Read(ref _closedReason);

    /// <summary>Connects; <paramref name="closed"/> is called once, with the reason, when the connection ends.</summary>
    /// <exception cref="QmpConnectException">The socket is missing, refuses, or may not be opened.</exception>
    public static async Task<QmpConnection> OpenAsync(string socketPath, int maxMessageBytes, Action<QmpException> closed, CancellationToken cancellationToken)
    {
        UnixDomainSocketEndPoint endPoint;
        try
        {
            endPoint = new UnixDomainSocketEndPoint(socketPath);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new QmpConnectException("QmpSocketPathTooLong", ErrorKind.InvalidArgument,
                $"Cannot connect to QMP socket {socketPath}: the path is longer than a Unix socket address allows (107 bytes).", socketPath, e);
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
            return new QmpConnection(socketPath, socket, maxMessageBytes, closed);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw ConnectFailure(socketPath, e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static QmpConnectException ConnectFailure(string socketPath, SocketException e)
    {
        if (!File.Exists(socketPath) && !Directory.Exists(socketPath))
        {
            return new QmpConnectException("QmpSocketNotFound", ErrorKind.ObjectNotFound,
                $"QMP socket {socketPath} does not exist; is the path right and is QEMU running with -qmp unix:{socketPath},server=on?", socketPath, e);
        }

        return e.SocketErrorCode switch
        {
            SocketError.AccessDenied => new QmpConnectException("QmpSocketAccessDenied", ErrorKind.PermissionDenied,
                $"Permission denied connecting to QMP socket {socketPath}; run as the socket's owner or root.", socketPath, e),
            SocketError.ConnectionRefused => new QmpConnectException("QmpConnectionRefused", ErrorKind.ConnectionError,
                $"Connection refused by {socketPath}: nothing is listening there (QEMU may have exited); {QmpException.NotQmpHint}", socketPath, e),
            _ => new QmpConnectException("QmpConnectFailed", ErrorKind.ConnectionError,
                $"Cannot connect to QMP socket {socketPath}: {e.Message}; {QmpException.NotQmpHint}", socketPath, e),
        };
    }

    /// <summary>A handshake write, before the reader runs: its failures are the caller's to name.</summary>
    public ValueTask<int> SendHandshakeAsync(byte[] request, CancellationToken cancellationToken) =>
        _socket.SendAsync(request, SocketFlags.None, cancellationToken);

    /// <summary>
    /// Starts the reader task. <paramref name="route"/> gets each line on it; a failure it returns ends the connection.
    /// </summary>
    public void StartReading(Func<ReadOnlyMemory<byte>, QmpException?> route) =>
        _readLoop = Task.Run(() => ReadLoopAsync(route), CancellationToken.None);

    /// <summary>Writes one command (with <paramref name="fd"/> attached, if given); a failed write closes the connection.</summary>
    public async Task WriteAsync(string command, byte[] request, SafeFileHandle? fd, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        // Only the wait is cancellable by the caller: a write abandoned halfway would corrupt the stream for
        // every later command, so the write itself ends only with the connection.
        await WriteAndReleaseAsync(command, request, fd).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task WriteAndReleaseAsync(string command, byte[] request, SafeFileHandle? fd)
    {
        var fdAdded = false;
        try
        {
            if (fd is null)
            {
                await _socket.SendAsync(request, SocketFlags.None, _lifetime.Token).ConfigureAwait(false);
            }
            else
            {
                fd.DangerousAddRef(ref fdAdded);
                await FdPassing.SendWithFdAsync(_socket, request, (int)fd.DangerousGetHandle(), _lifetime.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            Close(Disconnected("writing to the socket failed: " + e.Message, e));
            throw CommandFailure(command, ClosedReason!);
        }
        finally
        {
            if (fdAdded)
            {
                fd!.DangerousRelease();
            }

            _writeLock.Release();
        }
    }

    private async Task ReadLoopAsync(Func<ReadOnlyMemory<byte>, QmpException?> route)
    {
        QmpException reason;
        try
        {
            while (true)
            {
                var line = await Reader.ReadLineAsync(_lifetime.Token).ConfigureAwait(false);
                if (line is null)
                {
                    reason = Disconnected("the server closed the connection", null);
                    break;
                }

                if (route(line.Value) is { } failure)
                {
                    reason = failure;
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (_lifetime.IsCancellationRequested)
        {
            return; // Close() already recorded why.
        }
        catch (QmpLineReader.MessageTooLargeException e)
        {
            reason = new QmpProtocolException(QmpProtocolFailure.MessageTooLarge,
                $"{SocketPath} sent a message larger than the {_maxMessageBytes}-byte limit; the connection was closed.", SocketPath, e);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            reason = Disconnected("reading from the socket failed: " + e.Message, e);
        }
        catch (Exception e)
        {
            // Last resort: whatever broke the loop, callers must not wait for replies that will never be read.
            reason = new QmpProtocolException(QmpProtocolFailure.ReaderFailed, $"Reading QMP messages from {SocketPath} failed: {e.Message}", SocketPath, e);
        }

        Close(reason);
    }

    public QmpDisconnectedException Disconnected(string why, Exception? inner)
        => new($"The QMP connection to {SocketPath} is closed: {why}.", SocketPath, inner);

    /// <summary>A fresh exception per failed command (one shared instance would mix stack traces).</summary>
    public QmpException CommandFailure(string command, QmpException reason) => reason switch
    {
        QmpProtocolException p => new QmpProtocolException(p.Failure, $"QMP command '{command}' failed: {p.Message}", SocketPath, p),
        _ => new QmpDisconnectedException($"QMP command '{command}' failed: {reason.Message}", SocketPath, reason),
    };

    /// <summary>Ends the connection once: records why, tells the client, stops the reader, closes the socket.</summary>
    public void Close(QmpException reason)
    {
        if (Interlocked.CompareExchange(ref _closedReason, reason, null) is not null)
        {
            return;
        }

        _closed(reason);
        _lifetime.Cancel();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already gone: nothing left to shut down.
        }

        _socket.Dispose();
    }

    /// <summary>Closes and waits for the reader task to end.</summary>
    public async ValueTask CloseAsync(QmpException reason)
    {
        Close(reason);
        await _readLoop.ConfigureAwait(false);
    }
}
