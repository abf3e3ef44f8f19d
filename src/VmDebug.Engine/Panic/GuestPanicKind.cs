namespace VmDebug;

public enum GuestPanicKind
{
    /// <summary>The guest kernel panicked (QMP GUEST_PANICKED).</summary>
    Panicked,
    /// <summary>The guest panicked and loaded its kdump crash kernel (QMP GUEST_CRASHLOADED).</summary>
    CrashLoaded,
}
