using VmDebug.Engine.Kmsg;

namespace VmDebug;

/// <summary>Where kmsg records come from. Every transport feeds the same pipeline.</summary>
public abstract class KmsgSource
{
    private protected KmsgSource()
    {
    }

    /// <summary>Listens for guests on AF_VSOCK (any local CID) port <paramref name="port"/>.</summary>
    /// <param name="allowedCids">Only these guest CIDs may connect; others are closed and reported. Null: anyone.</param>
    public static KmsgSource Vsock(uint port, IEnumerable<uint>? allowedCids = null) =>
        new VsockSource(port, allowedCids?.ToHashSet(), null);

    /// <summary>
    /// Listens on the Unix socket <c>&lt;udsPath&gt;_&lt;port&gt;</c>, where Firecracker, Cloud Hypervisor and
    /// vhost-device-vsock connect when a guest connects to host port <paramref name="port"/>.
    /// </summary>
    public static KmsgSource HybridVsock(string udsPath, uint port) =>
        new UnixListenerSource($"{udsPath}_{port}");

    /// <summary>Connects to a QEMU chardev Unix socket (virtio-serial port or serial console) as its client.</summary>
    public static KmsgSource ChardevSocket(string path) => new ChardevSource(path, null);

    /// <summary>
    /// Reads the live XML of libvirt domain <paramref name="domain"/> and picks its transport: with
    /// <paramref name="port"/>, an AF_VSOCK listener on that port that admits only the domain's <c>&lt;vsock&gt;</c>
    /// CID; without, a client of its virtio channel named <c>org.vmdebug.kmsg</c> (a Unix socket in bind mode).
    /// Records name the domain as their Guest. Throws <see cref="KmsgDomainException"/> saying what XML to add when
    /// the domain has neither.
    /// </summary>
    /// <param name="connectionUri">libvirt URI; null: qemu:///system.</param>
    public static Task<KmsgSource> ForDomainAsync(string domain, string? connectionUri = null, uint? port = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(domain);
        // libvirt calls block; keep them off the caller's thread.
        return Task.Run(() => KmsgDomainResolver.Resolve(connectionUri, domain, port), cancellationToken);
    }

    /// <summary>The choice <see cref="ForDomainAsync"/> makes, from a domain XML already read.</summary>
    /// <param name="isRunning">Whether the domain runs: a channel socket and an automatic CID exist only then.</param>
    public static KmsgSource ForDomainXml(string domainXml, uint? port = null, bool isRunning = true) =>
        KmsgDomainResolver.FromXml(domainXml, port, isRunning);

    internal static KmsgSource VsockForGuest(uint port, uint cid, string guestName, string description) =>
        new VsockSource(port, [cid], guestName, description);

    internal static KmsgSource ChardevForGuest(string path, string guestName, string description) =>
        new ChardevSource(path, guestName, description);

    /// <summary>The error for a request that names no source: there is no conventional kmsg port to guess.</summary>
    public static Engine.VmDebugException MissingSourceError() => new KmsgTransportException("KmsgSourceMissing", Engine.ErrorKind.InvalidArgument,
        "No kernel log source was named: give a vsock port, a hybrid vsock socket and port, a chardev socket or a libvirt domain.", null);

    /// <summary>What is listened on or connected to, for messages.</summary>
    public abstract string Description { get; }

    /// <summary>Binds and listens, or connects. Errors surface here, before any record is read.</summary>
    internal abstract Task<KmsgTransport> OpenAsync(CancellationToken cancellationToken);

    public override string ToString() => Description;

    private sealed class VsockSource(uint port, HashSet<uint>? allowedCids, string? guestName, string? description = null) : KmsgSource
    {
        public override string Description => description ?? $"vsock port {port}";

        internal override Task<KmsgTransport> OpenAsync(CancellationToken cancellationToken) =>
            Task.FromResult<KmsgTransport>(VsockListener.Open(port, allowedCids, guestName));
    }

    private sealed class UnixListenerSource(string path) : KmsgSource
    {
        public override string Description => $"hybrid vsock socket {path}";

        internal override Task<KmsgTransport> OpenAsync(CancellationToken cancellationToken) =>
            Task.FromResult<KmsgTransport>(UnixSocketListener.Open(path));
    }

    private sealed class ChardevSource(string path, string? guestName, string? description = null) : KmsgSource
    {
        public override string Description => description ?? $"chardev socket {path}";

        internal override async Task<KmsgTransport> OpenAsync(CancellationToken cancellationToken) =>
            await ChardevClient.ConnectAsync(path, guestName, cancellationToken).ConfigureAwait(false);
    }
}
