using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using VmDebug.Engine.Native;

namespace VmDebug.Engine.Kmsg;

/// <summary>
/// AF_VSOCK listener through libc. A blocking accept cannot be woken here: on this kernel shutdown() of a
/// listening vsock socket fails with ENOTCONN and close() from another thread leaves accept() blocked
/// (both checked). So the socket is non-blocking and the loop polls it together with an eventfd that stops it.
/// </summary>
internal sealed class VsockListener : KmsgTransport
{
    private readonly int _listenFd;
    private readonly int _wakeFd;
    private readonly uint _port;
    private readonly HashSet<uint>? _allowedCids;
    private readonly string? _guestName;
    private Task _acceptLoop = Task.CompletedTask;
    private int _disposed;

    private VsockListener(int listenFd, int wakeFd, uint port, HashSet<uint>? allowedCids, string? guestName)
    {
        _listenFd = listenFd;
        _wakeFd = wakeFd;
        _port = port;
        _allowedCids = allowedCids;
        _guestName = guestName;
    }

    /// <param name="guestName">Names accepted guests (e.g. the libvirt domain owning the only allowed CID); null: their CID.</param>
    public static VsockListener Open(uint port, HashSet<uint>? allowedCids, string? guestName = null)
    {
        var fd = VsockNative.Socket(VsockNative.AfVsock, VsockNative.SockStream | VsockNative.SockNonBlock | VsockNative.SockCloexec, 0);
        if (fd < 0)
        {
            var error = Marshal.GetLastPInvokeError();
            throw error == VsockNative.Eafnosupport
                ? new KmsgTransportException("VsockUnavailable", ErrorKind.NotInstalled,
                    "AF_VSOCK is not available on this host: the kernel has no vsock support (load the vsock module and a transport).", "vsock")
                : Failure("VsockSocketFailed", $"Cannot create an AF_VSOCK socket: {Marshal.GetPInvokeErrorMessage(error)}.", "vsock");
        }

        var wakeFd = -1;
        try
        {
            var address = new VsockNative.SockaddrVm { Family = VsockNative.AfVsock, Port = port, Cid = VsockNative.CidAny };
            if (VsockNative.Bind(fd, ref address, (uint)Marshal.SizeOf<VsockNative.SockaddrVm>()) < 0)
            {
                var error = Marshal.GetLastPInvokeError();
                throw error == VsockNative.Eaddrinuse
                    ? new KmsgTransportException("VsockPortInUse", ErrorKind.ResourceBusy, $"vsock port {port} is already in use on this host.", port)
                    : Failure("VsockBindFailed", $"Cannot bind vsock port {port}: {Marshal.GetPInvokeErrorMessage(error)}.", port);
            }

            if (VsockNative.Listen(fd, 16) < 0)
            {
                throw Failure("VsockListenFailed", $"Cannot listen on vsock port {port}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}.", port);
            }

            wakeFd = VsockNative.EventFd(0, VsockNative.EfdCloexec | VsockNative.EfdNonBlock);
            if (wakeFd < 0)
            {
                throw Failure("VsockListenFailed", $"Cannot create an eventfd for vsock port {port}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}.", port);
            }

            return new VsockListener(fd, wakeFd, port, allowedCids, guestName);
        }
        catch
        {
            VsockNative.Close(fd);
            if (wakeFd >= 0)
            {
                VsockNative.Close(wakeFd);
            }

            throw;
        }
    }

    public override void Start(KmsgPipeline pipeline) =>
        _acceptLoop = Task.Factory.StartNew(() => AcceptLoop(pipeline), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        ulong one = 1;
        VsockNative.Write(_wakeFd, ref one, sizeof(ulong));
        await _acceptLoop.ConfigureAwait(false);
        VsockNative.Close(_listenFd);
        VsockNative.Close(_wakeFd);
    }

    private unsafe void AcceptLoop(KmsgPipeline pipeline)
    {
        Exception? fault = null;
        try
        {
            var fds = stackalloc VsockNative.PollFd[2];
            while (true)
            {
                fds[0] = new VsockNative.PollFd { Fd = _listenFd, Events = VsockNative.PollIn };
                fds[1] = new VsockNative.PollFd { Fd = _wakeFd, Events = VsockNative.PollIn };
                if (VsockNative.Poll(fds, 2, -1) < 0)
                {
                    var error = Marshal.GetLastPInvokeError();
                    if (error == VsockNative.Eintr)
                    {
                        continue;
                    }

                    throw Failure("VsockAcceptFailed", $"Waiting for guests on vsock port {_port} failed: {Marshal.GetPInvokeErrorMessage(error)}.", _port);
                }

                if (fds[1].Revents != 0)
                {
                    return;
                }

                AcceptPending(pipeline);
            }
        }
        catch (Exception e)
        {
            fault = e;
        }
        finally
        {
            pipeline.CompleteSource(fault);
        }
    }

    private void AcceptPending(KmsgPipeline pipeline)
    {
        while (true)
        {
            var peer = default(VsockNative.SockaddrVm);
            var length = (uint)Marshal.SizeOf<VsockNative.SockaddrVm>();
            var fd = VsockNative.Accept4(_listenFd, ref peer, ref length, VsockNative.SockCloexec);
            if (fd < 0)
            {
                var error = Marshal.GetLastPInvokeError();
                switch (error)
                {
                    case VsockNative.Eagain:
                        return;
                    case VsockNative.Eintr or VsockNative.Econnaborted:
                        continue;
                    case VsockNative.Emfile or VsockNative.Enfile or VsockNative.Enobufs or VsockNative.Enomem:
                        // The connection stays in the backlog; report, and give the host a moment before retrying.
                        pipeline.Refuse(null, "vsock", $"the host is out of resources to accept it ({Marshal.GetPInvokeErrorMessage(error)})");
                        Thread.Sleep(100);
                        return;
                    default:
                        throw Failure("VsockAcceptFailed", $"Accepting a guest on vsock port {_port} failed: {Marshal.GetPInvokeErrorMessage(error)}.", _port);
                }
            }

            var guest = peer.Cid.ToString(CultureInfo.InvariantCulture);
            if (_allowedCids is not null && !_allowedCids.Contains(peer.Cid))
            {
                VsockNative.Close(fd);
                pipeline.Refuse(null, guest, $"CID {guest} is not in the allowed list");
                continue;
            }

            Socket socket;
            try
            {
                socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
            }
            catch (SocketException e)
            {
                pipeline.Refuse(null, guest, $"its socket could not be used: {e.Message}");
                continue;
            }

            pipeline.Accept(socket, _guestName ?? guest);
        }
    }

    private static KmsgTransportException Failure(string errorId, string message, object target) =>
        new(errorId, ErrorKind.ConnectionError, message, target);
}
