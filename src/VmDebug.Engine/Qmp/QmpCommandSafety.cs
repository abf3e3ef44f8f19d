namespace VmDebug.Engine.Qmp;

/// <summary>
/// Which raw QMP commands only read state. Invoke-QmpCommand asks for confirmation before anything else (quit,
/// stop, system_reset, device_del, human-monitor-command…); a name not known to be read-only counts as changing state.
/// </summary>
public static class QmpCommandSafety
{
    private static readonly HashSet<string> ReadOnlyCommands = new(StringComparer.Ordinal)
    {
        "qom-get", "qom-list", "qom-list-types", "qom-list-properties", "device-list-properties",
    };

    public static bool IsReadOnly(string command) =>
        command.StartsWith("query-", StringComparison.Ordinal)
        || command.StartsWith("x-query-", StringComparison.Ordinal)
        || ReadOnlyCommands.Contains(command);
}
