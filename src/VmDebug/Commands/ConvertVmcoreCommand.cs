using System.Management.Automation;
using VmDebug.Engine.Dump;

namespace VmDebug.Commands;

[Cmdlet(VerbsData.Convert, "Vmcore", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = "Path")]
[OutputType(typeof(GuestMemoryDump))]
public sealed class ConvertVmcoreCommand : VmDebugCmdlet
{
    /// <summary>The type name the conversion view is selected by: a conversion has no repairs, but a source file.</summary>
    private const string ConvertedTypeName = "VmDebug.GuestMemoryDump#Converted";

    private DumpDestination? _destination;

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Path", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = "LiteralPath", ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = [];

    /// <summary>A file for one input, or a directory that takes every input under a generated name.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = "";

    // VmDebug writes these itself; WinDmp only QEMU writes, and only for Windows guests.
    [Parameter]
    [ValidateSet(nameof(DumpFormat.Elf), nameof(DumpFormat.KdumpZlib), nameof(DumpFormat.KdumpLzo), nameof(DumpFormat.KdumpSnappy), nameof(DumpFormat.KdumpZstd))]
    public DumpFormat Format { get; set; } = DumpFormat.KdumpZlib;

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void BeginProcessing() => _destination = new DumpDestination(GetUnresolvedProviderPathFromPSPath(Destination));

    protected override void ProcessRecord()
    {
        foreach (var input in ResolveInputPaths(ParameterSetName == "LiteralPath" ? LiteralPath : Path, ParameterSetName == "LiteralPath"))
        {
            if (!TryRunEngine(_ => Task.FromResult(_destination!.PathFor(System.IO.Path.GetFileNameWithoutExtension(input), Format)), out var output, input)
                || !ShouldProcess(input, $"Convert to {Format} at '{output}'"))
            {
                continue;
            }

            if (TryRunEngine(ct => VmcoreConverter.ConvertAsync(input, output, Format, Force, CreateProgress(), ct), out var converted, input))
            {
                foreach (var warning in converted.Warnings)
                {
                    WriteWarning(warning);
                }

                var result = PSObject.AsPSObject(converted);
                result.TypeNames.Insert(0, ConvertedTypeName);
                WriteObject(result);
            }
        }
    }
}
