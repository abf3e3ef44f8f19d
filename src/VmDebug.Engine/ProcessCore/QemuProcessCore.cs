namespace VmDebug;

/// <summary>A QEMU process core and what it holds: the guest's RAM or not, and how to read it.</summary>
public sealed class QemuProcessCore
{
    /// <summary>The core file, possibly compressed (Invoke-GuestMemoryDump -CoreFile reads it as it is).</summary>
    public required string Path { get; init; }

    /// <summary>
    /// The same file as <see cref="Path"/>, named so it binds to Invoke-GuestMemoryDump -CoreFile by property name
    /// (that cmdlet's own -Path is the vmcore to write).
    /// </summary>
    public string CoreFile => Path;

    public int? Pid { get; init; }

    /// <summary>The dumping process's user (systemd-coredump's file name), when known.</summary>
    public int? Uid { get; init; }

    /// <summary>The boot the core comes from (systemd-coredump's file name: 32 hex digits), when known.</summary>
    public string? BootId { get; init; }

    public CoreFileCompression Compression { get; init; }

    /// <summary>When the process dumped core (systemd-coredump's timestamp, else the file's modification time).</summary>
    public DateTimeOffset? Time { get; init; }

    /// <summary>The signal that killed QEMU (6 = SIGABRT, 11 = SIGSEGV).</summary>
    public int? Signal { get; init; }

    /// <summary>
    /// QEMU's command line as recovered from the core. For a compressed core, listed from its headers only, the first
    /// 80 characters the kernel keeps in NT_PRPSINFO.
    /// </summary>
    public string? CommandLine { get; init; }

    public string? MachineType { get; init; }

    /// <summary>Guest RAM size from QEMU's command line.</summary>
    public ulong? GuestRamBytes { get; init; }

    /// <summary>
    /// True when the core holds guest RAM (dump-guest-core=on). For a compressed core, told from its program headers:
    /// a big read-write mapping with its bytes in the core; null when no mapping looks like guest RAM.
    /// </summary>
    public bool? IncludesGuestRam { get; init; }

    public required QemuCoreSource Source { get; init; }

    /// <summary>Why the core cannot be turned into a vmcore as is (compressed, truncated, no guest RAM), or null.</summary>
    public string? Problem { get; init; }
}
