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
        await using var client = await QmpClient.ConnectAsync(qmpSocket, null, cancellationToken).ConfigureAwait(false);
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

    private static IReadOnlyList<string> WarningsFor(string target, string state, bool paused, bool panicked) =>
        panicked ? [$"The guest behind {target} has already panicked ({state}): the NMI changes nothing."]
        : paused ? [$"The guest behind {target} is {state}: its kernel sees the NMI only when its vCPUs run again."]
        : [];
}
