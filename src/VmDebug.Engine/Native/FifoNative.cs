using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using VmDebug.Engine.Files;

namespace VmDebug.Engine.Native;

/// <summary>
/// libc calls for the host ends of QEMU's pipe chardevs: mkfifo, and non-blocking read/write with poll, so a
/// missing guest (no QEMU holding the FIFO) is an error and never a hang. <see cref="Files.DescriptorOutputStream"/>
/// writes standard output with the same calls.
/// </summary>
internal static partial class FifoNative
{
    public const int OWrOnly = 1, ENxio = 6, EIntr = 4;
    private const short PollIn = 0x1, PollOut = 0x4;

    public static int MakeFifo(string path, uint mode) => LibcFiles.mkfifo(path, mode) == 0 ? 0 : UnixFile.LastError;

    public static int ChangeMode(SafeFileHandle handle, uint mode) => fchmod((int)handle.DangerousGetHandle(), mode) == 0 ? 0 : UnixFile.LastError;

    /// <summary>Waits up to <paramref name="timeoutMs"/> for data (or hang-up); false on timeout.</summary>
    public static bool WaitReadable(SafeFileHandle handle, int timeoutMs) => Wait(handle, PollIn, timeoutMs);

    public static bool WaitWritable(SafeFileHandle handle, int timeoutMs) => Wait(handle, PollOut, timeoutMs);

    private static unsafe bool Wait(SafeFileHandle handle, short events, int timeoutMs)
    {
        var fd = new PollFd { Fd = (int)handle.DangerousGetHandle(), Events = events };
        var n = poll(&fd, 1, timeoutMs);
        if (n < 0 && UnixFile.LastError != EIntr)
        {
            throw new IOException($"poll failed: {UnixFile.ErrorText(UnixFile.LastError)}");
        }

        return n > 0;
    }

    /// <summary>read(2): bytes read, 0 at end of file (no writer left), or -errno.</summary>
    public static unsafe int Read(SafeFileHandle handle, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            var n = read((int)handle.DangerousGetHandle(), p, (nuint)buffer.Length);
            return n >= 0 ? (int)n : -UnixFile.LastError;
        }
    }

    /// <summary>write(2): bytes written or -errno.</summary>
    public static unsafe int Write(SafeFileHandle handle, ReadOnlySpan<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            var n = write((int)handle.DangerousGetHandle(), p, (nuint)buffer.Length);
            return n >= 0 ? (int)n : -UnixFile.LastError;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fchmod(int fd, uint mode);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int poll(PollFd* fds, nuint count, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint read(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint write(int fd, byte* buffer, nuint count);
}
