using System.Runtime.InteropServices;

namespace VmDebug.Engine.Native;

internal sealed class LibvirtConnectionHandle : SafeHandle
{
    public LibvirtConnectionHandle() : base(IntPtr.Zero, ownsHandle: true) { }
    internal LibvirtConnectionHandle(nint handle) : this() => SetHandle(handle);
    public override bool IsInvalid => handle == IntPtr.Zero;
    // virConnectClose returns the remaining reference count, or -1 on error.
    protected override bool ReleaseHandle() => LibvirtNative.virConnectClose(handle) >= 0;
}
