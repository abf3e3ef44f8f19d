namespace VmDebug.Engine.ProcessCore;

/// <summary>Where Get-QemuCoreDump looks.</summary>
public sealed record QemuCoreDumpQuery
{
    /// <summary>Core files or directories to examine; directories are listed (recursively with <see cref="Recurse"/>).</summary>
    public IReadOnlyList<string> Paths { get; init; } = [];

    public bool Recurse { get; init; }

    /// <summary>Also list the QEMU cores of systemd-coredump's store (<see cref="SystemdCoredumpDirectory"/>), when it exists.</summary>
    public bool IncludeSystemdCoredump { get; init; } = true;

    public string SystemdCoredumpDirectory { get; init; } = "/var/lib/systemd/coredump";
}
