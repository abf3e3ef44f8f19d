using System.Management.Automation;
using VmDebug.Engine.Fleet;

namespace VmDebug.Commands;

/// <summary>Lists the crashes archived by Watch-GuestPanic (from each crash.json), oldest first.</summary>
[Cmdlet(VerbsCommon.Get, "GuestCrash")]
[OutputType(typeof(GuestCrash))]
public sealed class GetGuestCrashCommand : VmDebugCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string ArchivePath { get; set; } = "";

    /// <summary>Only this guest's crashes.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Guest { get; set; } = "";

    /// <summary>Only crashes after this time.</summary>
    [Parameter]
    public DateTime After { get; set; }

    protected override void ProcessRecord()
    {
        var archive = new CrashArchive(GetUnresolvedProviderPathFromPSPath(ArchivePath));
        var problems = new List<string>();
        DateTimeOffset? after = MyInvocation.BoundParameters.ContainsKey(nameof(After)) ? new DateTimeOffset(After.ToUniversalTime(), TimeSpan.Zero) : null;
        if (!TryRunEngine(_ => Task.FromResult(archive.ListExisting(Guest.Length > 0 ? Guest : null, after, problems)), out var crashes, archive.Root))
        {
            return;
        }
        foreach (var crash in crashes)
        {
            WriteObject(crash);
        }
        foreach (var problem in problems)
        {
            WriteWarning($"Skipped: {problem}");
        }
    }
}
