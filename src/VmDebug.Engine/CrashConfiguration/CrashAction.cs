namespace VmDebug;

/// <summary>libvirt's &lt;on_crash&gt; actions.</summary>
public enum CrashAction { Destroy, Restart, Preserve, RenameRestart, CoredumpDestroy, CoredumpRestart }
