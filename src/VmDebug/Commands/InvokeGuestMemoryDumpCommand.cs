using System.Management.Automation;
using VmDebug.Engine.Dump;

namespace VmDebug.Commands;

[Cmdlet(VerbsLifecycle.Invoke, "GuestMemoryDump", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium,
    DefaultParameterSetName = QmpPath)]
[OutputType(typeof(GuestMemoryDump))]
public sealed class InvokeGuestMemoryDumpCommand : VmDebugCmdlet
{
    private const string QmpPath = "QmpPath";
    private const string QmpLiteralPath = "QmpLiteralPath";
    private const string DomainPath = "DomainPath";
    private const string DomainLiteralPath = "DomainLiteralPath";

    [Parameter(Mandatory = true, ParameterSetName = QmpPath, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, ParameterSetName = QmpLiteralPath, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string QmpSocket { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = DomainPath, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, ParameterSetName = DomainLiteralPath, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    public string Domain { get; set; } = "";

    [Parameter(ParameterSetName = DomainPath)]
    [Parameter(ParameterSetName = DomainLiteralPath)]
    [ValidateNotNullOrEmpty]
    public string ConnectionUri { get; set; } = "qemu:///system";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = QmpPath)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = DomainPath)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = QmpLiteralPath)]
    [Parameter(Mandatory = true, ParameterSetName = DomainLiteralPath)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string LiteralPath { get; set; } = "";

    [Parameter]
    public DumpFormat Format { get; set; } = DumpFormat.Elf;

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        var path = GetUnresolvedProviderPathFromPSPath(ParameterSetName.EndsWith("LiteralPath", StringComparison.Ordinal) ? LiteralPath : Path);
        var viaQmp = ParameterSetName.StartsWith("Qmp", StringComparison.Ordinal);
        var request = new DumpRequest
        {
            QmpSocket = viaQmp ? GetUnresolvedProviderPathFromPSPath(QmpSocket) : null,
            Domain = viaQmp ? null : Domain,
            ConnectionUri = ConnectionUri,
            Path = path,
            Format = Format,
            Force = Force,
        };
        var target = request.QmpSocket ?? request.Domain!;
        if (!ShouldProcess(target, $"Dump guest memory ({Format}) to '{path}', pausing the guest while QEMU writes it"))
        {
            return;
        }

        WriteVerbose($"The guest behind {target} is paused while QEMU writes its memory; QEMU resumes it afterwards only if it was running.");
        if (TryRunEngine(ct => GuestMemoryDumper.DumpAsync(request, CreateProgress(), ct), out var dump, target))
        {
            foreach (var warning in dump.Warnings)
            {
                WriteWarning(warning);
            }

            foreach (var repair in dump.Repairs)
            {
                WriteVerbose($"Repaired: {repair}");
            }

            WriteObject(dump);
        }
    }
}
