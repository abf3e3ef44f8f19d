using System.Runtime.InteropServices;

namespace VmDebug.Engine.Native;

internal sealed class LibvirtDomainHandle : SafeHandle
{
    public LibvirtDomainHandle() : base(IntPtr.Zero, ownsHandle: true) { }
    internal LibvirtDomainHandle(nint handle) : this() => SetHandle(handle);
    public override bool IsInvalid => handle == IntPtr.Zero;
    protected override bool ReleaseHandle() => LibvirtNative.virDomainFree(handle) == 0;
}
