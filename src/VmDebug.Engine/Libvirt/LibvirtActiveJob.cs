using VmDebug.Engine.Libvirt;

namespace VmDebug;

/// <summary>A domain with a libvirt job in progress (dump, save, migration...).</summary>
public sealed class LibvirtActiveJob
{
    public LibvirtActiveJob(string domain, LibvirtJobType jobType, TimeSpan elapsed, LibvirtJobOperation operation = LibvirtJobOperation.Unknown)
    {
        Domain = domain;
        JobType = jobType;
        Elapsed = elapsed;
        Operation = operation;
    }

    public string Domain { get; }
    public LibvirtJobType JobType { get; }
    public TimeSpan Elapsed { get; }
    /// <summary>What the job does (dump, migration...), when libvirt says.</summary>
    public LibvirtJobOperation Operation { get; }

    public override string ToString() => $"{Domain}: {Operation} job ({JobType}) for {Elapsed.TotalSeconds:0.0} s";
}
