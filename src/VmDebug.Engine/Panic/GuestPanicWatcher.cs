using System.Diagnostics;
using VmDebug.Engine.Json;
using VmDebug.Engine.Qmp;

namespace VmDebug.Engine.Panic;

/// <summary>Waits for a guest's panic on its QMP socket.</summary>
public static class GuestPanicWatcher
{
    public static async Task<GuestPanicEvent> WaitAsync(string qmpSocket, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        await using var client = await QmpClient.ConnectAsync(qmpSocket, null, cancellationToken).ConfigureAwait(false);
        return await WaitAsync(client, timeout, waited, cancellationToken).ConfigureAwait(false);
    }

    public static async Task<GuestPanicEvent> WaitAsync(QmpClient client, TimeSpan? timeout, Stopwatch waited, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout is { } limit)
        {
            deadline.CancelAfter(limit);
        }

        // Events are queued from negotiation on, so a panic between connecting and this query is not lost.
        var status = await client.QueryStatusAsync(null, deadline.Token).ConfigureAwait(false);
        if (status.Status == "guest-panicked")
        {
            return new GuestPanicEvent
            {
                // QMP has no query for when the panic happened, and its event went to whoever was connected then.
                Kind = GuestPanicKind.Panicked,
                Time = null,
                Action = "pause",
                QmpSocket = client.SocketPath,
                Waited = waited.Elapsed,
                AlreadyPanicked = true,
            };
        }

        try
        {
            await foreach (var qmpEvent in client.Events.ReadAllAsync(deadline.Token).ConfigureAwait(false))
            {
                var kind = qmpEvent.Name switch
                {
                    "GUEST_PANICKED" => GuestPanicKind.Panicked,
                    "GUEST_CRASHLOADED" => GuestPanicKind.CrashLoaded,
                    _ => (GuestPanicKind?)null,
                };
                if (kind is null)
                {
                    continue;
                }

                return new GuestPanicEvent
                {
                    Kind = kind.Value,
                    Time = qmpEvent.Timestamp,
                    Action = qmpEvent.Data?["action"]?.GetValue<string>(),
                    Info = qmpEvent.Data?["info"] is System.Text.Json.Nodes.JsonObject info ? PlainJson.ToDictionary(info) : null,
                    QmpSocket = client.SocketPath,
                    Waited = waited.Elapsed,
                };
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new VmDebugException("GuestPanicWaitTimeout", ErrorKind.OperationTimeout,
                $"The guest behind '{client.SocketPath}' did not panic within {timeout!.Value.TotalSeconds:0.###} s.", client.SocketPath);
        }

        // The event channel completes when QEMU goes away.
        throw new VmDebugException("GuestPanicQemuExited", ErrorKind.ConnectionError,
            $"QEMU closed '{client.SocketPath}' before the guest panicked: {client.ClosedReason?.Message ?? "connection closed"}",
            client.SocketPath, client.ClosedReason);
    }
}
