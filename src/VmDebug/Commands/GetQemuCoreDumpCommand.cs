using System.Management.Automation;
using VmDebug.Engine.ProcessCore;

namespace VmDebug.Commands;

[Cmdlet(VerbsCommon.Get, "QemuCoreDump", DefaultParameterSetName = PathSet)]
[OutputType(typeof(QemuProcessCore))]
public sealed class GetQemuCoreDumpCommand : VmDebugCmdlet
{
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";

    private readonly List<string> _paths = [];

    /// <summary>Core files or directories; wildcards allowed.</summary>
    [Parameter(Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[] Path { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = [];

    [Parameter]
    public SwitchParameter Recurse { get; set; }

    /// <summary>Leave out systemd-coredump's entries.</summary>
    [Parameter]
    public SwitchParameter NoSystemdCoredump { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == LiteralPathSet)
        {
            _paths.AddRange(LiteralPath.Select(GetUnresolvedProviderPathFromPSPath));
            return;
        }

        foreach (var path in Path)
        {
            _paths.AddRange(WildcardPattern.ContainsWildcardCharacters(path) ? GetResolvedProviderPathFromPSPath(path, out _) : [GetUnresolvedProviderPathFromPSPath(path)]);
        }
    }

    protected override void EndProcessing()
    {
        var query = new QemuCoreDumpQuery { Paths = _paths, Recurse = Recurse, IncludeSystemdCoredump = !NoSystemdCoredump };
        if (TryRunEngine(ct => QemuCoreDumpFinder.FindAsync(query, ct), out var cores))
        {
            foreach (var core in cores)
            {
                WriteObject(core);
            }
        }
    }
}
