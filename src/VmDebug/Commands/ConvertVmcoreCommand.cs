using System.Management.Automation;
using VmDebug.Engine.Dump;

namespace VmDebug.Commands;

[Cmdlet(VerbsData.Convert, "Vmcore", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = "Path")]
[OutputType(typeof(GuestMemoryDump))]
public sealed class ConvertVmcoreCommand : VmDebugCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Path", ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string Path { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = "LiteralPath", ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string LiteralPath { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = "";

    [Parameter]
    public DumpFormat Format { get; set; } = DumpFormat.KdumpZlib;

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        var input = ParameterSetName == "LiteralPath"
            ? GetUnresolvedProviderPathFromPSPath(LiteralPath)
            : GetResolvedProviderPathFromPSPath(Path, out _).Single();
        var output = GetUnresolvedProviderPathFromPSPath(Destination);
        if (!ShouldProcess(input, $"Convert to {Format} at '{output}'"))
        {
            return;
        }

        if (TryRunEngine(ct => VmcoreConverter.ConvertAsync(input, output, Format, Force, CreateProgress(), ct), out var converted, input))
        {
            foreach (var warning in converted.Warnings)
            {
                WriteWarning(warning);
            }

            WriteObject(converted);
        }
    }
}
