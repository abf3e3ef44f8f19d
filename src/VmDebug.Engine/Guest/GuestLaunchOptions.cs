namespace VmDebug.Engine.Guest;

/// <summary>How to boot the test guest. Every knob maps to a QEMU option or a guest kernel command-line order.</summary>
public sealed record GuestLaunchOptions
{
    public string MachineType { get; init; } = "q35";
    public int MemoryMiB { get; init; } = 512;
    public GuestMemoryBackend MemoryBackend { get; init; } = GuestMemoryBackend.Anonymous;

    /// <summary>With <see cref="GuestMemoryBackend.HugeTlbFs"/>: a directory on a mounted hugetlbfs with room for the RAM.</summary>
    public string? MemoryPath { get; init; }

    /// <summary>Panic this many seconds after the markers are written; null: never panic.</summary>
    public int? PanicAfterSeconds { get; init; }

    /// <summary>Marker lines "vmdebug marker I" the guest writes to /dev/kmsg.</summary>
    public int Markers { get; init; }

    /// <summary>Syslog level of the marker lines.</summary>
    public int MarkerLevel { get; init; } = 5;

    /// <summary>Expose a virtio-serial port named org.vmdebug.kmsg (a server chardev socket) that the guest copies /dev/kmsg to.</summary>
    public bool KmsgPort { get; init; }

    /// <summary>Keep QEMU's default devices (std VGA, the BIOS ROM) instead of -nodefaults, as guests outside tests have.</summary>
    public bool DefaultDevices { get; init; }

    /// <summary>Passes -machine dump-guest-core=on and lifts RLIMIT_CORE so an abort writes guest RAM into QEMU's core.</summary>
    public bool ProcessCoreDumps { get; init; }

    /// <summary>With <see cref="ProcessCoreDumps"/>: false passes dump-guest-core=off (libvirt's default), so cores lack guest RAM.</summary>
    public bool DumpGuestCore { get; init; } = true;

    /// <summary>vCPUs (-smp).</summary>
    public int Cpus { get; init; } = 1;

    /// <summary>A -cpu model, e.g. "max,+la57" for 5-level paging; null: QEMU's default.</summary>
    public string? CpuModel { get; init; }

    /// <summary>False leaves out -device vmcoreinfo, so dumps carry no VMCOREINFO note (it is still in guest RAM).</summary>
    public bool VmcoreInfoDevice { get; init; } = true;

    /// <summary>QEMU's -action panic= (pause keeps a panicked guest for dumping; none lets it finish its panic, pstore included).</summary>
    public string PanicAction { get; init; } = "pause";

    /// <summary>Let a guest reset stay in the same QEMU (a warm reboot keeps RAM); false passes -no-reboot, so QEMU exits.</summary>
    public bool AllowReboot { get; init; }

    /// <summary>More guest kernel command-line words (e.g. log_buf_len=, printk.devkmsg=on).</summary>
    public IReadOnlyList<string> KernelArguments { get; init; } = [];

    /// <summary>More QEMU options (e.g. a second -qmp monitor a test drives while another client holds the first).</summary>
    public IReadOnlyList<string> QemuArguments { get; init; } = [];

    public const string KmsgPortName = "org.vmdebug.kmsg";
}
