namespace VmDebug;

/// <summary>Where Get-QemuCoreDump found a core.</summary>
public enum QemuCoreSource
{
    /// <summary>A plain core file (kernel core_pattern, libvirt's working directory, a copy).</summary>
    File,
    /// <summary>A file of systemd-coredump's store, named as systemd names them (core.COMM.UID.BOOTID.PID.USEC[.zst|.lz4|.xz]).</summary>
    SystemdCoredump,
}
