namespace VmDebug.Engine.Dump;

/// <summary>The stream ended early: QEMU stopped writing (it failed, or exited). The caller asks QEMU which.</summary>
internal sealed class DumpStreamEndedException(string name, string what, long position)
    : VmDebugException("DumpStreamEnded", ErrorKind.InvalidResult,
        $"QEMU's dump stream from {name} ended after {position} bytes, in the {what}.", name);
