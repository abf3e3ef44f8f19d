namespace VmDebug.Engine.CrashConfiguration;

/// <summary>The daemon restart was refused because domains have active jobs that a restart may abort.</summary>
public sealed class DaemonRestartRefusedException : VmDebugException
{
    public DaemonRestartRefusedException(string daemon, IReadOnlyList<ActiveDomainJob> jobs)
        : base("DaemonRestartRefusedActiveJobs", ErrorKind.ResourceBusy,
            $"Restarting {daemon} was refused: {string.Join(", ", jobs.Select(j => $"domain '{j.Domain}' has an active {j.Operation} job"))}; " +
            "a restart may abort them.", daemon)
    {
        Jobs = jobs;
        Remedy = new Remedy("Wait for them to finish or use {0}.", RemedyTerm.Of(RemedyParameter.Force));
    }

    public IReadOnlyList<ActiveDomainJob> Jobs { get; }
}
