using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Win32.SafeHandles;

namespace VmDebug.Engine.Qmp;

/// <summary>
/// A QMP client on a Unix domain socket. Follows QEMU's own client (python/qemu/qmp/qmp_client.py): greeting,
/// then <c>qmp_capabilities</c>, and only then a reader loop that routes replies by id and events to a channel.
/// Thread-safe: commands may run concurrently; their writes are serialized.
/// </summary>
public sealed partial class QmpClient : IAsyncDisposable, IDisposable
{
    private const string IdPrefix = "vmdebug-";

    private readonly Socket _socket;
    private readonly QmpLineReader _reader;
    private readonly QmpClientOptions _options;
    private readonly Dictionary<string, Pending> _pending = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly SemaphoreSlim _fdLock = new(1, 1);
    private readonly Channel<QmpEvent> _events = Channel.CreateUnbounded<QmpEvent>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly CancellationTokenSource _lifetime = new();
    private Task _readLoop = Task.CompletedTask;
    private long _nextId;
    private long _droppedReplies;
    private QmpException? _closedReason;
    private byte[] _lastLine = [];

    private sealed record Pending(string Command, TaskCompletionSource<JsonObject> Reply);

    private QmpClient(string socketPath, Socket socket, QmpClientOptions options)
    {
        SocketPath = socketPath;
        _socket = socket;
        _options = options;
        _reader = new QmpLineReader(socket, options.MaxMessageBytes);
    }

    public string SocketPath { get; }

    /// <summary>The server's greeting (QEMU version and the capabilities it offered).</summary>
    public QmpGreeting Greeting { get; private set; } = null!;

    /// <summary>True when out-of-band execution was negotiated.</summary>
    public bool OobEnabled { get; private set; }

    /// <summary>Events in arrival order. Unbounded, so a slow reader never delays replies; completes on disconnect.</summary>
    public ChannelReader<QmpEvent> Events => _events.Reader;

    /// <summary>Replies dropped because no pending command had their id.</summary>
    public long DroppedReplyCount => Interlocked.Read(ref _droppedReplies);

    /// <summary>False once the connection ended; <see cref="ClosedReason"/> then says why.</summary>
    public bool IsConnected => Volatile.Read(ref _closedReason) is null;

    public QmpException? ClosedReason => Volatile.Read(ref _closedReason);

    /// <summary>Connects, reads and validates the greeting, negotiates capabilities and starts reading.</summary>
    /// <exception cref="QmpConnectException">The socket is missing, refuses, or may not be opened.</exception>
    /// <exception cref="QmpGreetingException">The peer sent no valid QMP greeting in time.</exception>
    /// <exception cref="QmpNegotiationException"><c>qmp_capabilities</c> failed.</exception>
    public static async Task<QmpClient> ConnectAsync(string socketPath, QmpClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        options ??= new QmpClientOptions();
        var socket = await OpenSocketAsync(socketPath, cancellationToken).ConfigureAwait(false);
        var client = new QmpClient(socketPath, socket, options);
        try
        {
            using var handshake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            handshake.CancelAfter(options.HandshakeTimeout);
            client.Greeting = await client.ReadGreetingAsync(handshake.Token, cancellationToken).ConfigureAwait(false);
            await client.NegotiateAsync(handshake.Token, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        client._readLoop = Task.Run(client.ReadLoopAsync, CancellationToken.None);
        return client;
    }

    private static async Task<Socket> OpenSocketAsync(string socketPath, CancellationToken cancellationToken)
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
            return socket;
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
            return new QmpConnectException("QmpSocketNotFound", ErrorKind.ObjectNotFound,
                $"QMP socket {socketPath} does not exist; is the path right and is QEMU running with -qmp unix:{socketPath},server=on?", socketPath, e);
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

    private async Task<QmpGreeting> ReadGreetingAsync(CancellationToken handshake, CancellationToken caller)
    {
        JsonObject? message;
        try
        {
            message = await ReadHandshakeMessageAsync(handshake, caller, "greeting").ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            throw NotAGreeting("sent something that is not JSON", e);
        }

        if (message is null)
            throw NotAGreeting("closed the connection", null);

        if (!TryParseGreeting(message, out var greeting))
            throw NotAGreeting("sent a JSON message that is not a QMP greeting", null);
        return greeting;
    }

    private QmpGreetingException NotAGreeting(string what, Exception? inner)
    {
        return new QmpGreetingException("QmpGreetingInvalid",
            $"{SocketPath} {what} and did not send a QMP greeting (received {Preview(_lastLine)}); {QmpException.NotQmpHint}", SocketPath, inner);
    }

    private static bool TryParseGreeting(JsonObject message, out QmpGreeting greeting)
    {
        greeting = null!;
        if (message["QMP"] is not JsonObject qmp
            || qmp["version"] is not JsonObject version
            || version["qemu"] is not JsonObject qemu
            || qmp["capabilities"] is not JsonArray capabilities)
            return false;

        if (!TryGetInt(qemu, "major", out int major) || !TryGetInt(qemu, "minor", out int minor) || !TryGetInt(qemu, "micro", out int micro))
            return false;

        var names = new List<string>(capabilities.Count);
        foreach (var capability in capabilities)
        {
            if (capability is not JsonValue value || !value.TryGetValue(out string? name))
                return false;
            names.Add(name);
        }

        string package = version["package"] is JsonValue p && p.TryGetValue(out string? text) ? text : "";
        greeting = new QmpGreeting(new QmpVersion(major, minor, micro, package), names);
        return true;
    }

    private async Task NegotiateAsync(CancellationToken handshake, CancellationToken caller)
    {
        OobEnabled = _options.EnableOob && Greeting.Capabilities.Contains("oob");
        var arguments = OobEnabled ? new JsonObject { ["enable"] = new JsonArray("oob") } : null;
        byte[] request = Serialize("qmp_capabilities", arguments, id: null);
        try
        {
            await _socket.SendAsync(request, SocketFlags.None, handshake).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new QmpNegotiationException($"Cannot send qmp_capabilities to {SocketPath}: {e.Message}", SocketPath, e);
        }
        catch (OperationCanceledException) when (!caller.IsCancellationRequested)
        {
            throw new QmpNegotiationException($"Sending qmp_capabilities to {SocketPath} timed out.", SocketPath);
        }

        while (true)
        {
            JsonObject? reply;
            try
            {
                reply = await ReadHandshakeMessageAsync(handshake, caller, "qmp_capabilities reply").ConfigureAwait(false);
            }
            catch (JsonException e)
            {
                throw new QmpNegotiationException($"{SocketPath} answered qmp_capabilities with malformed JSON: {Preview(_lastLine)}", SocketPath, e);
            }

            if (reply is null)
                throw new QmpNegotiationException($"{SocketPath} closed the connection during capabilities negotiation.", SocketPath);

            // Events are not sent before negotiation completes, but keeping one is harmless and loses nothing.
            if (reply.ContainsKey("event"))
            {
                _events.Writer.TryWrite(ParseEvent(reply));
                continue;
            }

            if (reply["error"] is JsonObject error)
            {
                var (errorClass, description) = ParseError(error);
                throw new QmpNegotiationException($"{SocketPath} rejected qmp_capabilities: {errorClass}: {description}", SocketPath);
            }

            if (!reply.ContainsKey("return"))
                throw new QmpNegotiationException($"{SocketPath} sent an unexpected reply to qmp_capabilities: {Preview(_lastLine)}", SocketPath);
            return;
        }
    }

    /// <summary>Reads one message before the reader loop runs, mapping timeouts and I/O errors to handshake errors.</summary>
    private async Task<JsonObject?> ReadHandshakeMessageAsync(CancellationToken handshake, CancellationToken caller, string what)
    {
        ReadOnlyMemory<byte>? line;
        try
        {
            line = await _reader.ReadLineAsync(handshake).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!caller.IsCancellationRequested)
        {
            _lastLine = _reader.Pending.ToArray();
            string received = _lastLine.Length == 0 ? "nothing" : Preview(_lastLine);
            throw new QmpGreetingException("QmpGreetingTimeout",
                $"{SocketPath} did not send a QMP {what} within {_options.HandshakeTimeout.TotalSeconds:0.###} s (received {received}); " +
                $"{QmpException.NotQmpHint} QEMU serves one client at a time per QMP socket, so another client (e.g. libvirt) may hold it.",
                SocketPath);
        }
        catch (QmpLineReader.MessageTooLargeException e)
        {
            _lastLine = _reader.Pending.ToArray();
            throw new QmpGreetingException("QmpGreetingInvalid",
                $"{SocketPath} sent more than {_options.MaxMessageBytes} bytes without a line end and did not send a QMP {what} " +
                $"(received {Preview(_lastLine)}); {QmpException.NotQmpHint}", SocketPath, e);
        }
        catch (SocketException e)
        {
            throw new QmpGreetingException("QmpGreetingInvalid",
                $"Reading the QMP {what} from {SocketPath} failed: {e.Message}; {QmpException.NotQmpHint}", SocketPath, e);
        }

        if (line is null)
        {
            _lastLine = _reader.Pending.ToArray();
            return null;
        }

        _lastLine = line.Value.ToArray();
        return JsonNode.Parse(line.Value.Span) as JsonObject ?? throw new JsonException("not a JSON object");
    }

    /// <summary>Escaped and bounded: the peer may be anything, and its bytes end up in error messages.</summary>
    internal static string Preview(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0)
            return "nothing";
        const int max = 80;
        var text = new StringBuilder("\"");
        foreach (byte b in bytes[..Math.Min(bytes.Length, max)])
        {
            text.Append(b switch
            {
                (byte)'\r' => "\\r",
                (byte)'\n' => "\\n",
                (byte)'\t' => "\\t",
                (byte)'"' => "\\\"",
                (byte)'\\' => "\\\\",
                >= 0x20 and < 0x7f => ((char)b).ToString(),
                _ => $"\\x{b:x2}",
            });
        }

        text.Append('"');
        if (bytes.Length > max)
            text.Append($"… ({bytes.Length} bytes)");
        return text.ToString();
    }

    /// <summary>
    /// Runs a QMP command and returns its <c>return</c> member.
    /// </summary>
    /// <param name="command">The command name, e.g. <c>query-status</c>.</param>
    /// <param name="arguments">Its arguments, or null. Not modified or kept.</param>
    /// <param name="timeout">How long to wait for the reply; null uses <see cref="QmpClientOptions.CommandTimeout"/>.</param>
    /// <param name="cancellationToken">Cancels the wait; the command may still run in QEMU, its reply is then dropped.</param>
    /// <exception cref="QmpCommandException">QEMU returned an error.</exception>
    /// <exception cref="QmpTimeoutException">No reply in time.</exception>
    /// <exception cref="QmpDisconnectedException">The connection is or became closed.</exception>
    /// <exception cref="QmpProtocolException">The server broke the protocol.</exception>
    public Task<JsonNode?> ExecuteAsync(string command, JsonObject? arguments = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        => ExecuteCoreAsync(command, arguments, timeout, fd: null, cancellationToken);

    private async Task<JsonNode?> ExecuteCoreAsync(string command, JsonObject? arguments, TimeSpan? timeout, SafeFileHandle? fd, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(command);
        var wait = timeout ?? _options.CommandTimeout;
        cancellationToken.ThrowIfCancellationRequested();

        string id = IdPrefix + Interlocked.Increment(ref _nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        byte[] request = Serialize(command, arguments, id);
        var pending = new Pending(command, new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_pending)
        {
            if (_closedReason is { } reason)
                throw Closed(command, reason);
            _pending.Add(id, pending);
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(wait);
        try
        {
            await WriteAsync(command, request, fd, deadline.Token).ConfigureAwait(false);
            var reply = await pending.Reply.Task.WaitAsync(deadline.Token).ConfigureAwait(false);
            return ReturnValue(command, arguments, reply);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new QmpTimeoutException(command, wait, SocketPath);
        }
        finally
        {
            lock (_pending)
                _pending.Remove(id);
        }
    }

    private JsonNode? ReturnValue(string command, JsonObject? arguments, JsonObject reply)
    {
        if (reply["error"] is JsonObject error)
        {
            var (errorClass, description) = ParseError(error);
            throw new QmpCommandException(command, arguments?.ToJsonString(), errorClass, description, SocketPath);
        }

        if (!reply.TryGetPropertyValue("return", out var value))
            throw new QmpProtocolException("QmpUnexpectedReply",
                $"{SocketPath} answered '{command}' with neither 'return' nor 'error': {Preview(Encoding.UTF8.GetBytes(reply.ToJsonString()))}", SocketPath);

        // Detach so callers may keep or re-parent the value.
        reply.Remove("return");
        return value;
    }

    private async Task WriteAsync(string command, byte[] request, SafeFileHandle? fd, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        // Only the wait is cancellable by the caller: a write abandoned halfway would corrupt the stream for
        // every later command, so the write itself ends only with the connection.
        await WriteAndReleaseAsync(command, request, fd).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task WriteAndReleaseAsync(string command, byte[] request, SafeFileHandle? fd)
    {
        bool fdAdded = false;
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
            throw Closed(command, ClosedReason!);
        }
        finally
        {
            if (fdAdded)
                fd!.DangerousRelease();
            _writeLock.Release();
        }
    }

    private static byte[] Serialize(string command, JsonObject? arguments, string? id)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("execute", command);
            if (arguments is not null)
            {
                writer.WritePropertyName("arguments");
                arguments.WriteTo(writer);
            }

            if (id is not null)
                writer.WriteString("id", id);
            writer.WriteEndObject();
        }

        var bytes = new byte[buffer.WrittenCount + 1];
        buffer.WrittenSpan.CopyTo(bytes);
        bytes[^1] = (byte)'\n';
        return bytes;
    }

    private async Task ReadLoopAsync()
    {
        QmpException reason;
        try
        {
            while (true)
            {
                var line = await _reader.ReadLineAsync(_lifetime.Token).ConfigureAwait(false);
                if (line is null)
                {
                    reason = Disconnected("the server closed the connection", null);
                    break;
                }

                if (Route(line.Value) is { } failure)
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
            reason = new QmpProtocolException("QmpMessageTooLarge",
                $"{SocketPath} sent a message larger than the {_options.MaxMessageBytes}-byte limit; the connection was closed.", SocketPath, e);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            reason = Disconnected("reading from the socket failed: " + e.Message, e);
        }

        Close(reason);
    }

    /// <summary>Delivers one message; returns the failure that ends the connection, if it is one.</summary>
    private QmpException? Route(ReadOnlyMemory<byte> line)
    {
        JsonObject message;
        try
        {
            message = JsonNode.Parse(line.Span) as JsonObject ?? throw new JsonException("not a JSON object");
        }
        catch (JsonException e)
        {
            return new QmpProtocolException("QmpMalformedMessage",
                $"{SocketPath} sent a malformed QMP message: {Preview(line.Span)}", SocketPath, e);
        }

        if (message.ContainsKey("event"))
        {
            _events.Writer.TryWrite(ParseEvent(message));
            return null;
        }

        Pending? pending = null;
        if (message["id"] is JsonValue idValue && idValue.TryGetValue(out string? id))
        {
            lock (_pending)
                _pending.TryGetValue(id, out pending);
        }

        if (pending is not null)
        {
            pending.Reply.TrySetResult(message);
            return null;
        }

        if (!message.ContainsKey("id") && message["error"] is JsonObject error)
        {
            // QEMU answers input it cannot parse with an id-less error (QMP spec, "Commands Responses");
            // which command it belongs to is unknowable, so like QEMU's client, give up on the connection.
            var (errorClass, description) = ParseError(error);
            return new QmpProtocolException("QmpErrorWithoutId",
                $"{SocketPath} reported an error without an id ({errorClass}: {description}); the server could not parse a request, " +
                "so the connection was closed.", SocketPath);
        }

        // QMP spec: clients should drop responses with an unknown id (e.g. the late reply of a timed-out command).
        Interlocked.Increment(ref _droppedReplies);
        try
        {
            _options.ReplyDropped?.Invoke(message);
        }
        catch (Exception e)
        {
            Debug.WriteLine($"QMP ReplyDropped callback threw: {e}");
        }

        return null;
    }

    private QmpEvent ParseEvent(JsonObject message)
    {
        string name = message["event"] is JsonValue v && v.TryGetValue(out string? text) ? text : "";
        var timestamp = DateTimeOffset.UtcNow;
        if (message["timestamp"] is JsonObject ts
            && TryGetLong(ts, "seconds", out long seconds) && TryGetLong(ts, "microseconds", out long micros)
            && seconds is >= 0 and < 253402300800 && micros is >= 0 and < 1_000_000)
        {
            timestamp = DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(micros * 10);
        }

        var data = message["data"] as JsonObject;
        if (data is not null)
            message.Remove("data"); // detached, so listeners may keep or re-parent it
        return new QmpEvent(name, timestamp, data);
    }

    private static (string ErrorClass, string Description) ParseError(JsonObject error)
    {
        string errorClass = error["class"] is JsonValue c && c.TryGetValue(out string? cls) ? cls : "(no class)";
        string description = error["desc"] is JsonValue d && d.TryGetValue(out string? desc) ? desc : "(no description)";
        return (errorClass, description);
    }

    private static bool TryGetInt(JsonObject obj, string name, out int value)
    {
        value = 0;
        return obj[name] is JsonValue v && v.TryGetValue(out value);
    }

    private static bool TryGetLong(JsonObject obj, string name, out long value)
    {
        value = 0;
        return obj[name] is JsonValue v && v.TryGetValue(out value);
    }

    private QmpDisconnectedException Disconnected(string why, Exception? inner)
        => new($"The QMP connection to {SocketPath} is closed: {why}.", SocketPath, inner);

    /// <summary>A fresh exception per failed command (one shared instance would mix stack traces).</summary>
    private QmpException Closed(string command, QmpException reason) => reason switch
    {
        QmpProtocolException p => new QmpProtocolException(p.ErrorId, $"QMP command '{command}' failed: {p.Message}", SocketPath, p),
        _ => new QmpDisconnectedException($"QMP command '{command}' failed: {reason.Message}", SocketPath, reason),
    };

    /// <summary>Ends the connection once: fails every pending command, completes the event channel, closes the socket.</summary>
    private void Close(QmpException reason)
    {
        List<Pending> failed;
        lock (_pending)
        {
            if (_closedReason is not null)
                return;
            _closedReason = reason;
            failed = [.. _pending.Values];
            _pending.Clear();
        }

        foreach (var pending in failed)
            pending.Reply.TrySetException(Closed(pending.Command, reason));

        _events.Writer.TryComplete();
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

    public async ValueTask DisposeAsync()
    {
        Close(Disconnected("the client was disposed", null));
        await _readLoop.ConfigureAwait(false);
    }

    public void Dispose()
    {
        Close(Disconnected("the client was disposed", null));
        // The loop only awaits the socket, which is closed now; it ends promptly without further cleanup.
    }
}
