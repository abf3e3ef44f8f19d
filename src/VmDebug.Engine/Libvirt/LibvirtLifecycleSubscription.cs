using System.Runtime.InteropServices;
using System.Threading.Channels;
using VmDebug.Engine.Native;

namespace VmDebug.Engine.Libvirt;

/// <summary>
/// Lifecycle events of a connection's domains, delivered on libvirt's event loop thread and queued into an
/// unbounded channel so a slow reader never stalls libvirt. Disposing deregisters the callback and completes
/// <see cref="Events"/>.
/// </summary>
public sealed unsafe class LibvirtLifecycleSubscription : IDisposable
{
    private const int EventIdLifecycle = 0; // VIR_DOMAIN_EVENT_ID_LIFECYCLE

    private readonly Channel<DomainLifecycleEvent> _channel =
        Channel.CreateUnbounded<DomainLifecycleEvent>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly LibvirtConnection _connection;
    private readonly IDisposable _eventLoopLease;
    private int _callbackId = -1;
    // Held with DangerousAddRef: stays valid even if the connection object is disposed first.
    private nint _connectionPtr;
    private int _disposed;

    private LibvirtLifecycleSubscription(LibvirtConnection connection, IDisposable eventLoopLease)
    {
        _connection = connection;
        _eventLoopLease = eventLoopLease;
    }

    public ChannelReader<DomainLifecycleEvent> Events => _channel.Reader;

    internal static LibvirtLifecycleSubscription Register(LibvirtConnection connection, LibvirtDomain? domain)
    {
        var subscription = new LibvirtLifecycleSubscription(connection, LibvirtRuntime.AcquireEventLoop());
        var connectionRef = false;
        // libvirt owns this handle from now on and frees it through FreeSink once the callback is deregistered.
        var sink = GCHandle.Alloc(subscription._channel.Writer);
        try
        {
            connection.Handle.DangerousAddRef(ref connectionRef);
            var domainPtr = domain?.Handle.DangerousGetHandle() ?? 0;
            delegate* unmanaged<nint, nint, int, int, nint, int> callback = &OnLifecycle;
            var id = LibvirtNative.virConnectDomainEventRegisterAny(
                connection.Handle, domainPtr, EventIdLifecycle, (nint)callback, GCHandle.ToIntPtr(sink), &FreeSink);
            // On failure the handle is left allocated: whether libvirt already ran FreeSink is not documented.
            if (id < 0)
            {
                throw LibvirtErrors.FromLastError("Subscribing to lifecycle events", domain?.Name ?? connection.Uri);
            }

            subscription._callbackId = id;
            subscription._connectionPtr = connection.Handle.DangerousGetHandle();
            return subscription;
        }
        catch
        {
            if (connectionRef)
            {
                connection.Handle.DangerousRelease();
            }

            subscription._eventLoopLease.Dispose();
            throw;
        }
    }

    [UnmanagedCallersOnly]
    private static int OnLifecycle(nint conn, nint dom, int @event, int detail, nint opaque)
    {
        try
        {
            var writer = (ChannelWriter<DomainLifecycleEvent>)GCHandle.FromIntPtr(opaque).Target!;
            // dom is borrowed for the duration of the callback: copy what we need now.
            var name = LibvirtNative.Utf8(LibvirtNative.virDomainGetName(dom)) ?? "";
            var uuid = stackalloc byte[37];
            var guid = LibvirtNative.virDomainGetUUIDString(dom, uuid) == 0 && Guid.TryParse(LibvirtNative.Utf8(uuid), out var g)
                ? g : Guid.Empty;
            writer.TryWrite(new DomainLifecycleEvent(name, guid, (LibvirtLifecycleEventType)@event, detail, DateTimeOffset.Now));
        }
        catch
        {
            // An exception must not unwind into libvirt's event loop; a lost event is the lesser harm.
        }
        return 0;
    }

    [UnmanagedCallersOnly]
    private static void FreeSink(nint opaque) => GCHandle.FromIntPtr(opaque).Free();

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (LibvirtNative.virConnectDomainEventDeregisterAny(_connectionPtr, _callbackId) < 0)
            {
                LibvirtNative.virResetLastError();
            }
        }
        finally
        {
            _channel.Writer.TryComplete();
            _connection.Handle.DangerousRelease();
            _eventLoopLease.Dispose();
        }
    }
}
