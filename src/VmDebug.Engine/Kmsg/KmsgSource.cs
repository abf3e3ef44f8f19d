using System.Net.Sockets;
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
        new VsockSource(port, allowedCids?.ToHashSet());

    /// <summary>
    /// Listens on the Unix socket <c>&lt;udsPath&gt;_&lt;port&gt;</c>, where Firecracker, Cloud Hypervisor and
    /// vhost-device-vsock connect when a guest connects to host port <paramref name="port"/>.
    /// </summary>
    public static KmsgSource HybridVsock(string udsPath, uint port) =>
        new UnixListenerSource($"{udsPath}_{port}");

    /// <summary>Connects to a QEMU chardev Unix socket (virtio-serial port or serial console) as its client.</summary>
    public static KmsgSource ChardevSocket(string path) => new ChardevSource(path);

    /// <summary>What is listened on or connected to, for messages.</summary>
    public abstract string Description { get; }

    /// <summary>Binds and listens, or connects. Errors surface here, before any record is read.</summary>
    internal abstract Task<KmsgTransport> OpenAsync(CancellationToken cancellationToken);

    public override string ToString() => Description;

    private sealed class VsockSource(uint port, HashSet<uint>? allowedCids) : KmsgSource
    {
        public override string Description => $"vsock port {port}";

        internal override Task<KmsgTransport> OpenAsync(CancellationToken cancellationToken) =>
            Task.FromResult<KmsgTransport>(VsockListener.Open(port, allowedCids));
    }

    private sealed class UnixListenerSource(string path) : KmsgSource
    {
        public override string Description => $"hybrid vsock socket {path}";

        internal override Task<KmsgTransport> OpenAsync(CancellationToken cancellationToken) =>
            Task.FromResult<KmsgTransport>(UnixSocketListener.Open(path));
    }

    private sealed class ChardevSource(string path) : KmsgSource
    {
        public override string Description => $"chardev socket {path}";

        internal override async Task<KmsgTransport> OpenAsync(CancellationToken cancellationToken) =>
            await ChardevClient.ConnectAsync(path, cancellationToken).ConfigureAwait(false);
    }
}
