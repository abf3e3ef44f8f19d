namespace VmDebug;

/// <summary>Where Get-QemuCoreDump found a core.</summary>
public enum QemuCoreSource
{
    /// <summary>A plain core file (kernel core_pattern, libvirt's working directory, a copy).</summary>
    File,
    /// <summary>An entry of systemd-coredump (coredumpctl).</summary>
    SystemdCoredump,
}

/// <summary>A QEMU process core and what it holds: the guest's RAM or not, and how to read it.</summary>
public sealed class QemuProcessCore
{
    /// <summary>The core file (for systemd-coredump, its stored file, possibly compressed; null when it is gone).</summary>
    public string? Path { get; init; }

    /// <summary>
    /// The same file as <see cref="Path"/>, named so it binds to Invoke-GuestMemoryDump -CoreFile by property name
    /// (that cmdlet's own -Path is the vmcore to write).
    /// </summary>
    public string? CoreFile => Path;

    public int? Pid { get; init; }

    /// <summary>When the process dumped core (systemd-coredump's timestamp, else the file's modification time).</summary>
    public DateTimeOffset? Time { get; init; }

    /// <summary>The signal that killed QEMU (6 = SIGABRT, 11 = SIGSEGV).</summary>
    public int? Signal { get; init; }

    /// <summary>QEMU's full command line as recovered from the core; null when unreadable (e.g. compressed).</summary>
    public string? CommandLine { get; init; }

    public string? MachineType { get; init; }

    /// <summary>Guest RAM size from QEMU's command line.</summary>
    public ulong? GuestRamBytes { get; init; }

    /// <summary>True when the core holds guest RAM (dump-guest-core=on); null when it cannot be told without extraction.</summary>
    public bool? IncludesGuestRam { get; init; }

    public required QemuCoreSource Source { get; init; }

    /// <summary>Why the core cannot be turned into a vmcore as is (compressed, truncated, no guest RAM), or null.</summary>
    public string? Problem { get; init; }
}
