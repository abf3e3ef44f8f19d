using System.Management.Automation;
using VmDebug.Engine.Fleet;

namespace VmDebug.Commands;

/// <summary>Deletes archived crashes: GuestCrash objects from Get-GuestCrash, or crash folders by path.</summary>
[Cmdlet(VerbsCommon.Remove, "GuestCrash", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = InputSet)]
[OutputType(typeof(GuestCrash))]
public sealed class RemoveGuestCrashCommand : VmDebugCmdlet
{
    private const string InputSet = "InputObject";
    private const string LiteralSet = "LiteralPath";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = InputSet)]
    public GuestCrash[] InputObject { get; set; } = [];

    /// <summary>A crash folder (ARCHIVE/&lt;guest&gt;/&lt;time&gt;), taken literally.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LiteralSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "Path")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = [];

    /// <summary>Writes each removed crash (as it was) to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var folders = ParameterSetName == InputSet
            ? InputObject.Select(crash => crash.Path)
            : LiteralPath.Select(path => GetUnresolvedProviderPathFromPSPath(path));
        foreach (var folder in folders)
        {
            try
            {
                var crash = CrashArchive.Read(folder);
                if (!ShouldProcess(folder, $"Remove the archived crash of {crash.Guest} at {crash.PanicTime:yyyy-MM-ddTHH:mm:ssZ}"))
                {
                    continue;
                }
                CrashArchive.RemoveCrashFolder(folder);
                if (PassThru)
                {
                    WriteObject(crash);
                }
            }
            catch (Exception e) when (e is VmDebug.Engine.VmDebugException or IOException or UnauthorizedAccessException)
            {
                WriteEngineError(e, folder);
            }
        }
    }
}
