using System.Runtime.InteropServices;

namespace VmDebug.Engine.Native;

/// <summary>libc process calls: signals other than SIGKILL.</summary>
internal static partial class LibcProcess
{
    [LibraryImport("libc", SetLastError = true)]
    internal static partial int kill(int pid, int signal);
}
