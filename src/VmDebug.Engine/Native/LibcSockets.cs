using System.Runtime.InteropServices;

namespace VmDebug.Engine.Native;

/// <summary>libc sendmsg(2) and its x86_64 structures, for SCM_RIGHTS descriptor passing.</summary>
internal static partial class LibcSockets
{
    [StructLayout(LayoutKind.Sequential)]
    internal struct IoVec
    {
        public nint Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct MsgHdr
    {
        public nint Name;
        public uint NameLength;
        public nint Iov;
        public nuint IovLength;
        public nint Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct CmsgHdr
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    [LibraryImport("libc", SetLastError = true)]
    internal static unsafe partial nint sendmsg(int socket, MsgHdr* message, int flags);
}
