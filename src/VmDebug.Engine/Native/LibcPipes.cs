using System.Runtime.InteropServices;

namespace VmDebug.Engine.Native;

/// <summary>libc pipe calls (x86_64 Linux): the pipes are made by <c>Files/UnixFile.CreatePipe</c> and read by <c>Dump/DumpPipe</c>.</summary>
internal static partial class LibcPipes
{
    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int pipe2(ref int fds, int flags);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int fcntl(int fd, int command, int argument);

    [LibraryImport("libc", SetLastError = true)]
    internal static unsafe partial nint read(int fd, byte* buffer, nuint count);

    /// <summary>splice(2) without offsets: moves pipe pages to another descriptor without copying them to user space.</summary>
    [LibraryImport("libc", SetLastError = true)]
    internal static partial nint splice(int fdIn, nint offsetIn, int fdOut, nint offsetOut, nuint length, uint flags);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int poll(ref PollFd fds, nuint count, int timeoutMilliseconds);
}
