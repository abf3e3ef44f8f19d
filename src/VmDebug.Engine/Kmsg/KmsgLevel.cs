namespace VmDebug;

/// <summary>Kernel log level, named as <c>dmesg --level</c> names them; lower is more severe.</summary>
public enum KmsgLevel
{
    Emerg = 0,
    Alert = 1,
    Crit = 2,
    Err = 3,
    Warn = 4,
    Notice = 5,
    Info = 6,
    Debug = 7,
}
