namespace VmDebug;

/// <summary>Which ramoops zone a <see cref="PstoreRecord"/> came from, as /sys/fs/pstore names its files.</summary>
public enum PstoreKind
{
    /// <summary>A kmsg dump written at oops or panic (dmesg-ramoops-N).</summary>
    Dmesg,
    /// <summary>The pstore console's running copy of the console (console-ramoops-0).</summary>
    Console,
    /// <summary>Function trace records of one CPU (ftrace-ramoops-0).</summary>
    Ftrace,
    /// <summary>What user space wrote to /dev/pmsg0 (pmsg-ramoops-0).</summary>
    Pmsg,
}
