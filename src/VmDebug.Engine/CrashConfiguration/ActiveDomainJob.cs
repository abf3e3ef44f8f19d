namespace VmDebug.Engine.CrashConfiguration;

/// <summary>A job libvirt reports on a domain (migration, block copy, dump); supplied by the libvirt layer.</summary>
public sealed record ActiveDomainJob(string Domain, string Operation);
