namespace VmDebug;

/// <summary>systemd-coredump's effective [Coredump] caps (coredump.conf and its drop-ins).</summary>
public sealed class SystemdCoredumpLimits
{
    /// <summary>none, external or journal.</summary>
    public required string Storage { get; init; }
    public required long ProcessSizeMax { get; init; }
    public required long ExternalSizeMax { get; init; }
    /// <summary>Null when unset (systemd then uses 10% of the file system).</summary>
    public long? MaxUse { get; init; }
    public required IReadOnlyList<string> ConfigFiles { get; init; }
}
