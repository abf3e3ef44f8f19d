using System.Management.Automation;
using VmDebug.Engine.PageFilter;

namespace VmDebug.Commands;

/// <summary>Counts a dump's pages by makedumpfile class without writing anything.</summary>
[Cmdlet(VerbsCommon.Get, "GuestMemoryUsage", DefaultParameterSetName = PathSet)]
[OutputType(typeof(GuestMemoryUsage))]
public sealed class GetGuestMemoryUsageCommand : VmDebugCmdlet
{
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string LiteralPath { get; set; } = "";

    /// <summary>The level whose classes are counted; 31 counts every class.</summary>
    [Parameter]
    [ValidateRange(0, 31)]
    public int DumpLevel { get; set; } = PageClassifier.MaxDumpLevel;

    protected override void ProcessRecord()
    {
        var paths = ParameterSetName == LiteralPathSet
            ? [GetUnresolvedProviderPathFromPSPath(LiteralPath)]
            : GetResolvedProviderPathFromPSPath(Path, out _);
        foreach (var path in paths)
        {
            var progress = CreateProgress();
            if (TryRunEngine(ct => Task.Run(() => GuestMemoryUsageReader.Measure(path, DumpLevel, progress, ct), ct), out var usage, path))
            {
                WriteObject(usage);
            }
        }
    }
}
