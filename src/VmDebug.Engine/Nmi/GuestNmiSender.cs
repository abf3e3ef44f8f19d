using VmDebug.Engine.Libvirt;
using VmDebug.Engine.Qmp;

namespace VmDebug.Engine.Nmi;

/// <summary>
/// Injects a non-maskable interrupt into a guest: QMP <c>inject-nmi</c> (qapi/machine.json) or libvirt's
/// <c>virDomainInjectNMI(dom, 0)</c>. The guest panics on it only when told to (kernel
/// Documentation/admin-guide/sysctl/kernel.rst: unknown_nmi_panic, panic_on_unrecovered_nmi, panic_on_io_nmi), which
/// makes it the way to get a dump of a hung guest through pvpanic or kdump.
/// </summary>
public static class GuestNmiSender
{
    public static async Task<GuestNmi> SendAsync(string qmpSocket, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(qmpSocket);
        QmpClient client;
        try
        {
            client = await QmpClient.ConnectAsync(qmpSocket, null, cancellationToken).ConfigureAwait(false);
        }
        catch (QmpGreetingException e) when (e.Failure == QmpGreetingFailure.Timeout)
        {
            throw SocketHeld(qmpSocket, e);
        }
        await using var _ = client;
        var status = await client.QueryStatusAsync(null, cancellationToken).ConfigureAwait(false);
        await client.ExecuteAsync("inject-nmi", null, null, cancellationToken).ConfigureAwait(false);
        return new GuestNmi
        {
            Target = qmpSocket,
            Channel = GuestNmiChannel.Qmp,
            QmpSocket = qmpSocket,
            StateBefore = status.Status,
            SentAt = DateTimeOffset.UtcNow,
            Warnings = WarningsFor(qmpSocket, status.Status, paused: status.Status is "paused" or "suspended",
                panicked: status.Status == "guest-panicked"),
        };
    }

    public static Task<GuestNmi> SendAsync(string? connectionUri, string domainName, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(domainName);
        cancellationToken.ThrowIfCancellationRequested();
        // libvirt calls block, and libvirt's last error is per thread: the whole exchange runs on one worker thread.
        return Task.Factory.StartNew(() =>
        {
            using var connection = LibvirtConnection.Open(connectionUri ?? LibvirtConnection.DefaultUri);
            using var domain = connection.LookupDomain(domainName);
            var (state, _) = domain.GetState();
            domain.InjectNmi();
            var stateName = state.ToString().ToLowerInvariant();
            return new GuestNmi
            {
                Target = domainName,
                Channel = GuestNmiChannel.Libvirt,
                Domain = domainName,
                ConnectionUri = connection.Uri,
                StateBefore = stateName,
                SentAt = DateTimeOffset.UtcNow,
                Warnings = WarningsFor(domainName, stateName, paused: state == LibvirtDomainState.Paused,
                    panicked: state == LibvirtDomainState.Crashed),
            };
        }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>
    /// The socket accepted the connection but QEMU never greeted: QEMU serves one client per QMP socket and queues the
    /// others unanswered, so another client (the watcher, libvirt, a person's socat) holds it.
    /// </summary>
    private static VmDebugException SocketHeld(string qmpSocket, QmpGreetingException timeout) =>
        new("QmpSocketBusy", ErrorKind.ResourceBusy,
            $"Another client holds the QMP socket {qmpSocket}: QEMU serves one client per QMP socket, and it sent no greeting to this one " +
            "(vmdebug watch and Watch-GuestPanic hold the sockets of the guests they watch, libvirt those of its domains). No NMI was sent.",
            qmpSocket, timeout)
        {
            Remedy = new Remedy("Send it through libvirt with {0} when the guest is a libvirt domain, or through a second QMP socket of the guest " +
                "(QEMU's -qmp option repeated: -qmp unix:PATH,server=on,wait=off), or stop {1} that watches it first.",
                RemedyTerm.Of(RemedyParameter.Domain), RemedyTerm.Of(RemedyCommand.WatchGuestPanic)),
        };

    private static IReadOnlyList<string> WarningsFor(string target, string state, bool paused, bool panicked) =>
        panicked ? [$"The guest behind {target} has already panicked ({state}): the NMI changes nothing."]
        : paused ? [$"The guest behind {target} is {state}: its kernel sees the NMI only when its vCPUs run again."]
        : [];
}
