using System.Net.Sockets;
using System.Runtime.InteropServices;
using static VmDebug.Engine.Native.LibcSockets;

namespace VmDebug.Engine.Qmp;

/// <summary>
/// Sends bytes plus one file descriptor as SCM_RIGHTS ancillary data with libc <c>sendmsg</c>: .NET has no managed
/// API for it. QEMU's socket chardev keeps the descriptors received with a message for the command it carries
/// (QEMU chardev/char-socket.c tcp_chr_recv; libvirt sends getfd the same way).
/// </summary>
internal static class FdPassing
{
    private const int SolSocket = 1;
    private const int ScmRights = 1;
    private const int MsgNoSignal = 0x4000;
    private const int EAgain = 11;
    private const int EIntr = 4;

    /// <summary>
    /// Sends <paramref name="payload"/> with <paramref name="fd"/> attached to its first byte; the rest, if the kernel
    /// took only part, is sent normally. Waits (polling) while the socket's send buffer is full.
    /// </summary>
    public static async Task SendWithFdAsync(Socket socket, ReadOnlyMemory<byte> payload, int fd, CancellationToken cancellationToken)
    {
        int sent;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            sent = TrySend(socket, payload.Span, fd, out var errno);
            if (sent >= 0)
            {
                break;
            }

            if (errno == EAgain)
            {
                // .NET keeps the socket non-blocking; wait until writable without blocking a thread for long.
                if (!socket.Poll(0, SelectMode.SelectWrite))
                {
                    await Task.Delay(5, cancellationToken).ConfigureAwait(false);
                }

                continue;
            }

            if (errno != EIntr)
            {
                throw new SocketException(errno);
            }
        }

        if (sent < payload.Length)
        {
            await socket.SendAsync(payload[sent..], SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
    }

    private static unsafe int TrySend(Socket socket, ReadOnlySpan<byte> payload, int fd, out int errno)
    {
        var controlSpace = Align(sizeof(CmsgHdr)) + Align(sizeof(int));
        var control = stackalloc byte[controlSpace];
        new Span<byte>(control, controlSpace).Clear();
        var cmsg = (CmsgHdr*)control;
        cmsg->Length = (nuint)(Align(sizeof(CmsgHdr)) + sizeof(int));
        cmsg->Level = SolSocket;
        cmsg->Type = ScmRights;
        *(int*)(control + Align(sizeof(CmsgHdr))) = fd;

        var added = false;
        var handle = socket.SafeHandle;
        try
        {
            handle.DangerousAddRef(ref added);
            fixed (byte* data = payload)
            {
                var iov = new IoVec { Base = (nint)data, Length = (nuint)payload.Length };
                var msg = new MsgHdr { Iov = (nint)(&iov), IovLength = 1, Control = (nint)control, ControlLength = (nuint)controlSpace };
                var result = sendmsg((int)handle.DangerousGetHandle(), &msg, MsgNoSignal);
                errno = result < 0 ? Marshal.GetLastPInvokeError() : 0;
                return (int)result;
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    // CMSG_ALIGN: ancillary data is aligned to sizeof(size_t).
    private static int Align(int length) => (length + IntPtr.Size - 1) & ~(IntPtr.Size - 1);
}
