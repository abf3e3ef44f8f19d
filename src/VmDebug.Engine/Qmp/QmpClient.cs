using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Win32.SafeHandles;

namespace VmDebug.Engine.Qmp;

/// <summary>
/// A QMP client on a Unix domain socket. Follows QEMU's own client (python/qemu/qmp/qmp_client.py): greeting,
/// then <c>qmp_capabilities</c>, and only then a reader loop that routes replies by id and events to a channel.
/// The transport is <see cref="QmpConnection"/>, the messages <see cref="QmpMessage"/> and its models.
/// Thread-safe: commands may run concurrently; their writes are serialized.
/// </summary>
public sealed partial class QmpClient : IAsyncDisposable, IDisposable
{
    private const string IdPrefix = "vmdebug-";

    private const int MaxStaleEventsBeforeGreeting = 64;

    private readonly QmpClientOptions _options;
    private readonly Dictionary<string, Pending> _pending = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _fdLock = new(1, 1);
    private readonly Channel<QmpEvent> _events = Channel.CreateUnbounded<QmpEvent>(new UnboundedChannelOptions { SingleWriter = true });
    private QmpConnection _connection = null!;
    private long _nextId;
    private long _droppedReplies;
    private byte[] _lastLine = [];

    private sealed record Pending(string Command, TaskCompletionSource<JsonObject> Reply);

    private QmpClient(string socketPath, QmpClientOptions options)
    {
        SocketPath = socketPath;
        _options = options;
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
    public bool IsConnected => ClosedReason is null;

    public QmpException? ClosedReason => _connection.ClosedReason;

    /// <summary>Connects, reads and validates the greeting, negotiates capabilities and starts reading.</summary>
    /// <exception cref="QmpConnectException">The socket is missing, refuses, or may not be opened.</exception>
    /// <exception cref="QmpGreetingException">The peer sent no valid QMP greeting in time.</exception>
    /// <exception cref="QmpNegotiationException"><c>qmp_capabilities</c> failed.</exception>
    public static async Task<QmpClient> ConnectAsync(string socketPath, QmpClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        options ??= new QmpClientOptions();
        var client = new QmpClient(socketPath, options);
        client._connection = await QmpConnection.OpenAsync(socketPath, options.MaxMessageBytes, client.OnClosed, cancellationToken).ConfigureAwait(false);
        try
        {
            using var handshake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            handshake.CancelAfter(options.HandshakeTimeout);
            client.Greeting = await client.ReadGreetingAsync(handshake.Token, cancellationToken).ConfigureAwait(false);
            await client.NegotiateAsync(handshake.Token, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            client._connection.Close(client._connection.Disconnected("the handshake failed", null));
            throw;
        }

        client._connection.StartReading(client.Route);
        return client;
    }

    private async Task<QmpGreeting> ReadGreetingAsync(CancellationToken handshake, CancellationToken caller)
    {
        JsonObject? message;
        var staleEvents = 0;
        while (true)
        {
            try
            {
                message = await ReadHandshakeMessageAsync(handshake, caller, greeting: true).ConfigureAwait(false);
            }
            catch (JsonException e)
            {
                throw NotAGreeting("sent something that is not JSON", e);
            }

            if (message is null)
            {
                throw NotAGreeting("closed the connection", null);
            }

            // QEMU's monitor keeps output it could not write to a client that has just gone (a STOP right after the
            // GUEST_PANICKED that client waited for) and writes it to the next client before the greeting. Those
            // events belong to the earlier session: drop them, a bounded number, so a chatty peer cannot stall us.
            if (message.ContainsKey("event") && !message.ContainsKey("QMP") && ++staleEvents <= MaxStaleEventsBeforeGreeting)
            {
                continue;
            }
            break;
        }

        return QmpGreeting.TryParse(message, out var failingMember)
            ?? throw NotAGreeting($"sent a JSON message that is not a QMP greeting ('{failingMember}' is missing or of the wrong type)", null);
    }

    private QmpGreetingException NotAGreeting(string what, Exception? inner)
    {
        return new QmpGreetingException(QmpGreetingFailure.Invalid,
            $"{SocketPath} {what} and did not send a QMP greeting (received {QmpMessage.Preview(_lastLine)}); {QmpException.NotQmpHint}", SocketPath, inner);
    }

    private async Task NegotiateAsync(CancellationToken handshake, CancellationToken caller)
    {
        OobEnabled = _options.EnableOob && Greeting.Capabilities.Contains("oob");
        var arguments = OobEnabled ? new JsonObject { ["enable"] = new JsonArray("oob") } : null;
        var request = QmpMessage.Command("qmp_capabilities", arguments, id: null);
        try
        {
            await _connection.SendHandshakeAsync(request, handshake).ConfigureAwait(false);
        }
        catch (System.Net.Sockets.SocketException e)
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
                reply = await ReadHandshakeMessageAsync(handshake, caller, greeting: false).ConfigureAwait(false);
            }
            catch (JsonException e)
            {
                throw new QmpNegotiationException($"{SocketPath} answered qmp_capabilities with malformed JSON: {QmpMessage.Preview(_lastLine)}", SocketPath, e);
            }

            if (reply is null)
            {
                throw new QmpNegotiationException($"{SocketPath} closed the connection during capabilities negotiation.", SocketPath);
            }

            // Events are not sent before negotiation completes, but keeping one is harmless and loses nothing.
            if (reply.ContainsKey("event"))
            {
                _events.Writer.TryWrite(QmpEvent.Parse(reply));
                continue;
            }

            if (reply["error"] is JsonObject error)
            {
                throw new QmpNegotiationException($"{SocketPath} rejected qmp_capabilities: {QmpError.Parse(error)}", SocketPath);
            }

            if (!reply.ContainsKey("return"))
            {
                throw new QmpNegotiationException($"{SocketPath} sent an unexpected reply to qmp_capabilities: {QmpMessage.Preview(_lastLine)}", SocketPath);
            }

            return;
        }
    }

    /// <summary>Reads one message before the reader loop runs, mapping timeouts and I/O errors to handshake errors.</summary>
    private async Task<JsonObject?> ReadHandshakeMessageAsync(CancellationToken handshake, CancellationToken caller, bool greeting)
    {
        var what = greeting ? "greeting" : "reply to qmp_capabilities";
        var reader = _connection.Reader;
        ReadOnlyMemory<byte>? line;
        try
        {
            line = await reader.ReadLineAsync(handshake).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!caller.IsCancellationRequested)
        {
            _lastLine = reader.Pending.ToArray();
            var received = _lastLine.Length == 0 ? "nothing" : QmpMessage.Preview(_lastLine);
            if (!greeting)
            {
                throw new QmpNegotiationException(
                    $"{SocketPath} did not send a {what} within {_options.HandshakeTimeout.TotalSeconds:0.###} s (received {received}).", SocketPath);
            }

            throw new QmpGreetingException(QmpGreetingFailure.Timeout,
                $"{SocketPath} did not send a QMP greeting within {_options.HandshakeTimeout.TotalSeconds:0.###} s (received {received}); " +
                $"{QmpException.NotQmpHint} QEMU serves one client at a time per QMP socket, so another client (e.g. libvirt) may hold it.",
                SocketPath);
        }
        catch (QmpLineReader.MessageTooLargeException e)
        {
            _lastLine = reader.Pending.ToArray();
            var text = $"{SocketPath} sent more than {_options.MaxMessageBytes} bytes without a line end instead of a QMP {what} " +
                $"(received {QmpMessage.Preview(_lastLine)}); {QmpException.NotQmpHint}";
            throw greeting ? new QmpGreetingException(QmpGreetingFailure.Invalid, text, SocketPath, e) : new QmpNegotiationException(text, SocketPath, e);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            var text = $"Reading the QMP {what} from {SocketPath} failed: {e.Message}; {QmpException.NotQmpHint}";
            throw greeting ? new QmpGreetingException(QmpGreetingFailure.Invalid, text, SocketPath, e) : new QmpNegotiationException(text, SocketPath, e);
        }

        if (line is null)
        {
            _lastLine = reader.Pending.ToArray();
            return null;
        }

        _lastLine = line.Value.ToArray();
        return QmpMessage.Parse(line.Value.Span);
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

        var id = IdPrefix + Interlocked.Increment(ref _nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var request = QmpMessage.Command(command, arguments, id);
        var pending = new Pending(command, new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_pending)
        {
            // Checked under the lock OnClosed drains: a command is either refused here or failed there.
            if (_connection.ClosedReason is { } reason)
            {
                throw _connection.CommandFailure(command, reason);
            }

            _pending.Add(id, pending);
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(wait);
        try
        {
            await _connection.WriteAsync(command, request, fd, deadline.Token).ConfigureAwait(false);
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
            {
                _pending.Remove(id);
            }
        }
    }

    private JsonNode? ReturnValue(string command, JsonObject? arguments, JsonObject reply)
    {
        if (reply["error"] is JsonObject errorMember)
        {
            var error = QmpError.Parse(errorMember);
            throw new QmpCommandException(command, arguments?.ToJsonString(), error.Class, error.Description, SocketPath);
        }

        if (!reply.TryGetPropertyValue("return", out var value))
        {
            throw new QmpProtocolException(QmpProtocolFailure.UnexpectedReply,
                $"{SocketPath} answered '{command}' with neither 'return' nor 'error': {QmpMessage.Preview(reply)}", SocketPath);
        }

        // Detach so callers may keep or re-parent the value.
        reply.Remove("return");
        return value;
    }

    /// <summary>Delivers one message (on the reader task); returns the failure that ends the connection, if it is one.</summary>
    private QmpException? Route(ReadOnlyMemory<byte> line)
    {
        JsonObject message;
        try
        {
            message = QmpMessage.Parse(line.Span);
        }
        catch (JsonException e)
        {
            return new QmpProtocolException(QmpProtocolFailure.MalformedMessage,
                $"{SocketPath} sent a malformed QMP message: {QmpMessage.Preview(line.Span)}", SocketPath, e);
        }

        if (message.ContainsKey("event"))
        {
            _events.Writer.TryWrite(QmpEvent.Parse(message));
            return null;
        }

        Pending? pending = null;
        if (QmpMessage.GetString(message, "id") is { } id)
        {
            lock (_pending)
            {
                _pending.TryGetValue(id, out pending);
            }
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
            return new QmpProtocolException(QmpProtocolFailure.ErrorWithoutId,
                $"{SocketPath} reported an error without an id ({QmpError.Parse(error)}); the server could not parse a request, " +
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

    /// <summary>The connection ended (called once, by it): every pending command fails, the event channel completes.</summary>
    private void OnClosed(QmpException reason)
    {
        List<Pending> failed;
        lock (_pending)
        {
            failed = [.. _pending.Values];
            _pending.Clear();
        }

        foreach (var pending in failed)
        {
            pending.Reply.TrySetException(_connection.CommandFailure(pending.Command, reason));
        }

        _events.Writer.TryComplete();
    }

    public ValueTask DisposeAsync() => _connection.CloseAsync(_connection.Disconnected("the client was disposed", null));

    // The reader only awaits the socket, which is closed now; it ends promptly without further cleanup.
    public void Dispose() => _connection.Close(_connection.Disconnected("the client was disposed", null));
}
