namespace VmDebug;

/// <summary>Syslog facility of a record (prio &gt;&gt; 3). Kernel messages are <see cref="Kern"/>; values above 23 stay numeric.</summary>
public enum KmsgFacility
{
    Kern = 0, User, Mail, Daemon, Auth, Syslog, Lpr, News, Uucp, Cron, AuthPriv, Ftp,
    Local0 = 16, Local1, Local2, Local3, Local4, Local5, Local6, Local7,
}
