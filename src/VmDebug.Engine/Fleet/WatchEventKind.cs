namespace VmDebug;

/// <summary>What a <see cref="WatchEvent"/> reports.</summary>
public enum WatchEventKind
{
    /// <summary>A source (QMP socket, libvirt connection) is connected and watched.</summary>
    Watching,
    /// <summary>Another client holds a QMP socket (QEMU serves one at a time); the watcher keeps retrying.</summary>
    SourceBusy,
    /// <summary>A source cannot be reached now (QEMU gone, socket missing, libvirtd down); the watcher keeps retrying.</summary>
    SourceUnavailable,
    /// <summary>A glob matched a new socket.</summary>
    SourceAdded,
    /// <summary>A socket found by glob went away.</summary>
    SourceRemoved,
    PanicDetected,
    CaptureStarted,
    CaptureCompleted,
    /// <summary>No dump: the archive's file system would drop below --keep-free-bytes or cannot hold the dump.</summary>
    CaptureSkipped,
    /// <summary>The capture failed (the dump, the archive); nothing half-written stays.</summary>
    CaptureFailed,
    /// <summary>A guest crashed more than N times in the window: its further crashes are counted, not dumped.</summary>
    CrashLoopLimited,
    /// <summary>An old crash was removed to keep the archive under --max-archive-bytes.</summary>
    RetentionRemoved,
    /// <summary>The --after action ran (or failed).</summary>
    AfterAction,
    /// <summary>Anything else worth a warning (debuginfod misses, an incomplete summary).</summary>
    Warning,
}
