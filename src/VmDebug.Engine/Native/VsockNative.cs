using System.Runtime.InteropServices;

namespace VmDebug.Engine.Native;

/// <summary>
/// libc calls for AF_VSOCK, which .NET's Socket refuses to create. Layouts from linux/vm_sockets.h and
/// linux/socket.h; checked here: .NET throws "Address family not supported" for family 40.
/// </summary>
internal static partial class VsockNative
{
    public const int AfVsock = 40;
    public const uint CidAny = 0xFFFFFFFF;
    public const int SockStream = 1;
    public const int SockNonBlock = 0x800;
    public const int SockCloexec = 0x80000;
    public const int EfdCloexec = 0x80000;
    public const int EfdNonBlock = 0x800;
    public const short PollIn = 0x1;
    public const int Eintr = 4;
    public const int Eagain = 11;
    public const int Enomem = 12;
    public const int Enfile = 23;
    public const int Emfile = 24;
    public const int Eafnosupport = 97;
    public const int Eaddrinuse = 98;
    public const int Econnaborted = 103;
    public const int Enobufs = 105;

    /// <summary>struct sockaddr_vm: 16 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SockaddrVm
    {
        public ushort Family;
        public ushort Reserved1;
        public uint Port;
        public uint Cid;
        public uint FlagsAndZero;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    public static partial int Bind(int fd, ref SockaddrVm address, uint length);

    [LibraryImport("libc", EntryPoint = "listen", SetLastError = true)]
    public static partial int Listen(int fd, int backlog);

    [LibraryImport("libc", EntryPoint = "accept4", SetLastError = true)]
    public static partial int Accept4(int fd, ref SockaddrVm address, ref uint length, int flags);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initialValue, int flags);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, ref ulong value, nuint count);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static unsafe partial int Poll(PollFd* fds, nuint count, int timeoutMilliseconds);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);
}
