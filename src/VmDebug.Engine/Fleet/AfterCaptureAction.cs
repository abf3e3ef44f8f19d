namespace VmDebug;

/// <summary>What the watcher does with a guest once its crash is archived (--after / -After).</summary>
public enum AfterCaptureAction
{
    /// <summary>Leave the guest as it is (paused in its panic), for a person to look at.</summary>
    Leave,
    /// <summary>Continue the vCPUs (QMP cont; libvirt resume). QEMU refuses this for a panicked guest that needs a reset.</summary>
    Resume,
    /// <summary>Reset the guest and let it boot again (QMP system_reset + cont; libvirt reset + resume).</summary>
    Reset,
    /// <summary>Power the guest off (QMP quit; libvirt destroy).</summary>
    Destroy,
}
