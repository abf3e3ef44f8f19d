using System.Runtime.InteropServices;
using VmDebug.Engine.Native;

namespace VmDebug.Engine.Libvirt;

/// <summary>
/// A connection to a libvirt daemon (virConnectPtr). libvirt connections are thread-safe: one may run a blocking
/// dump on one thread while another polls job info. While open, the libvirt event loop thread runs.
/// </summary>
public sealed class LibvirtConnection : IDisposable
{
    public const string DefaultUri = "qemu:///system";

    private readonly IDisposable _eventLoopLease;
    private int _disposed;

    private LibvirtConnection(LibvirtConnectionHandle handle, string uri, bool readOnly, IDisposable eventLoopLease)
    {
        Handle = handle;
        Uri = uri;
        IsReadOnly = readOnly;
        _eventLoopLease = eventLoopLease;
    }

    internal LibvirtConnectionHandle Handle { get; }

    /// <summary>The URI asked for (e.g. qemu:///system?socket=/path/libvirt-sock).</summary>
    public string Uri { get; }
    public bool IsReadOnly { get; }

    /// <summary>Opens a connection; <paramref name="uri"/> null means <see cref="DefaultUri"/>.</summary>
    public static LibvirtConnection Open(string? uri = DefaultUri, bool readOnly = false)
    {
        uri ??= DefaultUri;
        var lease = LibvirtRuntime.AcquireEventLoop();
        try
        {
            var ptr = readOnly ? LibvirtNative.virConnectOpenReadOnly(uri) : LibvirtNative.virConnectOpen(uri);
            if (ptr == 0)
            {
                throw LibvirtErrors.FromLastError("Connecting to libvirt", uri);
            }

            return new LibvirtConnection(new LibvirtConnectionHandle(ptr), uri, readOnly, lease);
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    /// <summary>Version of the libvirt library in this process (virGetVersion).</summary>
    public static Version GetClientLibraryVersion()
    {
        LibvirtRuntime.EnsureInitialized();
        if (LibvirtNative.virGetVersion(out var v, 0, 0) < 0)
        {
            throw LibvirtErrors.FromLastError("virGetVersion", LibvirtNative.Library);
        }

        return DecodeVersion(v);
    }

    /// <summary>Version of libvirt in the daemon (virConnectGetLibVersion).</summary>
    public Version GetLibVersion()
    {
        if (LibvirtNative.virConnectGetLibVersion(Handle, out var v) < 0)
        {
            throw Fail("virConnectGetLibVersion");
        }

        return DecodeVersion(v);
    }

    /// <summary>Version of the hypervisor, i.e. QEMU for qemu:// (virConnectGetVersion).</summary>
    public Version GetVersion()
    {
        if (LibvirtNative.virConnectGetVersion(Handle, out var v) < 0)
        {
            throw Fail("virConnectGetVersion");
        }

        return DecodeVersion(v);
    }

    public bool IsAlive => LibvirtNative.virConnectIsAlive(Handle) == 1;

    public LibvirtDomain LookupDomain(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var ptr = LibvirtNative.virDomainLookupByName(Handle, name);
        if (ptr == 0)
        {
            throw LibvirtErrors.FromLastError("Looking up the domain", name);
        }

        return new LibvirtDomain(new LibvirtDomainHandle(ptr), this);
    }

    /// <summary>Defines (or redefines) a persistent domain from its XML (virDomainDefineXML).</summary>
    public LibvirtDomain DefineDomain(string xml)
    {
        ArgumentException.ThrowIfNullOrEmpty(xml);
        var ptr = LibvirtNative.virDomainDefineXML(Handle, xml);
        if (ptr == 0)
        {
            throw LibvirtErrors.FromLastError("Defining a domain", Uri);
        }

        return new LibvirtDomain(new LibvirtDomainHandle(ptr), this);
    }

    /// <summary>Every domain matching <paramref name="flags"/> (virConnectListAllDomains); the caller disposes them.</summary>
    public unsafe IReadOnlyList<LibvirtDomain> ListAllDomains(LibvirtListDomainsFlags flags = LibvirtListDomainsFlags.None)
    {
        var count = LibvirtNative.virConnectListAllDomains(Handle, out var array, (uint)flags);
        if (count < 0)
        {
            throw Fail("Listing domains");
        }

        try
        {
            // Each element is a reference the caller owns; the array itself is freed with free().
            var result = new LibvirtDomain[count];
            for (var i = 0; i < count; i++)
            {
                result[i] = new LibvirtDomain(new LibvirtDomainHandle(array[i]), this);
            }

            return result;
        }
        finally
        {
            NativeMemory.Free(array);
        }
    }

    /// <summary>
    /// Running domains with a job in progress (virDomainGetJobInfo type other than NONE), e.g. a dump or migration
    /// that a daemon restart would abort. Domains that stop while being queried are left out.
    /// </summary>
    public IReadOnlyList<LibvirtActiveJob> GetActiveJobs()
    {
        var jobs = new List<LibvirtActiveJob>();
        foreach (var domain in ListAllDomains(LibvirtListDomainsFlags.Active))
        {
            using (domain)
            {
                LibvirtJobInfo info;
                try { info = domain.GetJobInfo(); }
                catch (LibvirtException e) when (e.Kind is ErrorKind.ObjectNotFound or ErrorKind.InvalidOperation) { continue; }
                if (info.Type == LibvirtJobType.None)
                {
                    continue;
                }

                var operation = LibvirtJobOperation.Unknown;
                try { operation = domain.GetJobOperation(); }
                catch (LibvirtException) { } // the job may end between the two calls; it still counted as active
                jobs.Add(new LibvirtActiveJob(domain.Name, info.Type, TimeSpan.FromMilliseconds(info.TimeElapsedMs), operation));
            }
        }
        return jobs;
    }

    /// <summary>
    /// Subscribes to lifecycle events (VIR_DOMAIN_EVENT_ID_LIFECYCLE) of one domain, or of all when
    /// <paramref name="domain"/> is null. Dispose the subscription to deregister.
    /// </summary>
    public LibvirtLifecycleSubscription SubscribeLifecycleEvents(LibvirtDomain? domain = null) =>
        LibvirtLifecycleSubscription.Register(this, domain);

    internal LibvirtException Fail(string operation) => LibvirtErrors.FromLastError(operation, Uri);

    /// <summary>libvirt packs versions as major * 1,000,000 + minor * 1,000 + release.</summary>
    internal static Version DecodeVersion(nuint packed)
    {
        ulong v = packed;
        return new Version((int)(v / 1_000_000), (int)(v / 1_000 % 1_000), (int)(v % 1_000));
    }

    public void Close() => Dispose();

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Handle.Dispose();
        _eventLoopLease.Dispose();
    }
}
