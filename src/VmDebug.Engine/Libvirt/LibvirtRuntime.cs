using System.Runtime.InteropServices;
using VmDebug.Engine.Native;

namespace VmDebug.Engine.Libvirt;

/// <summary>
/// Process-wide libvirt set-up: loads libvirt.so.0, silences libvirt's default stderr error printer, registers
/// libvirt's default event implementation (once per process, before any connection is opened, as the remote
/// driver only hooks its socket into an event loop that exists at open time) and runs that loop on a dedicated
/// thread while at least one connection or subscription holds a lease. The loop must run while a connection is
/// open: it answers the daemon's keepalive probes and dispatches domain events.
/// </summary>
internal static unsafe class LibvirtRuntime
{
    private static readonly object Gate = new();
    private static bool _initialized;
    private static bool _qemuLibraryLoaded;
    private static int _leases;
    private static Thread? _loopThread;
    private static volatile bool _stopRequested;

    internal static void EnsureInitialized()
    {
        lock (Gate)
        {
            if (_initialized)
            {
                return;
            }

            LoadOrThrow(LibvirtNative.Library);
            if (LibvirtNative.virInitialize() < 0)
            {
                throw LibvirtErrors.FromLastError("virInitialize", LibvirtNative.Library);
            }

            LibvirtNative.virSetErrorFunc(0, &IgnoreError);
            if (LibvirtNative.virEventRegisterDefaultImpl() < 0)
            {
                throw LibvirtErrors.FromLastError("virEventRegisterDefaultImpl", LibvirtNative.Library);
            }

            _initialized = true;
        }
    }

    internal static void EnsureQemuLibrary()
    {
        lock (Gate)
        {
            if (_qemuLibraryLoaded)
            {
                return;
            }

            LoadOrThrow(LibvirtNative.QemuLibrary);
            _qemuLibraryLoaded = true;
        }
    }

    /// <summary>Loads a shared library of package libvirt0, or says which apt package provides it.</summary>
    internal static void LoadOrThrow(string library)
    {
        if (!NativeLibrary.TryLoad(library, typeof(LibvirtRuntime).Assembly, null, out _))
        {
            throw new LibvirtException("LibvirtNotInstalled", ErrorKind.NotInstalled,
                $"{library} could not be loaded: install the apt package '{LibvirtNative.AptPackage}'.", library);
        }
    }

    /// <summary>Keeps the event loop thread running until the returned lease is disposed.</summary>
    internal static IDisposable AcquireEventLoop()
    {
        EnsureInitialized();
        lock (Gate)
        {
            if (_leases++ == 0)
            {
                _stopRequested = false;
                _loopThread = new Thread(RunLoop) { IsBackground = true, Name = "libvirt event loop" };
                _loopThread.Start();
            }
        }
        return new Lease();
    }

    internal static bool EventLoopRunning
    {
        get
        {
            lock (Gate)
            {
                return _loopThread is { IsAlive: true };
            }
        }
    }

    private static void Release()
    {
        Thread? toJoin = null;
        lock (Gate)
        {
            if (--_leases > 0)
            {
                return;
            }

            _stopRequested = true;
            // A zero-interval timer makes virEventRunDefaultImpl return at once, so the loop sees the stop flag.
            LibvirtNative.virEventAddTimeout(0, &WakeOnce, 0, 0);
            toJoin = _loopThread;
            _loopThread = null;
            if (toJoin == Thread.CurrentThread)
            {
                return;
            }
            // Joined under the lock so a new lease cannot start a second loop while the old one still runs.
            if (toJoin is not null && !toJoin.Join(TimeSpan.FromSeconds(10)))
            {
                throw new LibvirtException("LibvirtEventLoopStuck", ErrorKind.OperationTimeout,
                    "The libvirt event loop thread did not stop within 10 s.", toJoin.Name);
            }
        }
    }

    private static void RunLoop()
    {
        while (!_stopRequested)
        {
            if (LibvirtNative.virEventRunDefaultImpl() < 0)
            {
                // Only fails on poll() errors; clear this thread's error and retry shortly rather than spin.
                LibvirtNative.virResetLastError();
                Thread.Sleep(50);
            }
        }
    }

    [UnmanagedCallersOnly]
    private static void WakeOnce(int timer, nint opaque) => LibvirtNative.virEventRemoveTimeout(timer);

    [UnmanagedCallersOnly]
    private static void IgnoreError(nint userData, LibvirtNative.VirError* error)
    {
        // Errors are read from virGetLastError by the failing call; libvirt's default handler would print to stderr.
    }

    private sealed class Lease : IDisposable
    {
        private int _disposed;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Release();
            }
        }
    }
}
