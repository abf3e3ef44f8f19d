using System.Management.Automation;
using VmDebug.Engine.Dump;
using VmDebug.Engine.ProcessCore;

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
    private const string CoreFilePath = "CoreFilePath";
    private const string CoreFileLiteralPath = "CoreFileLiteralPath";

    [Parameter(Mandatory = true, ParameterSetName = QmpPath, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, ParameterSetName = QmpLiteralPath, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string QmpSocket { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = DomainPath, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, ParameterSetName = DomainLiteralPath, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(LibvirtDomainCompleter))]
    public string Domain { get; set; } = "";

    /// <summary>A QEMU process core; binds from Get-QemuCoreDump's CoreFile property.</summary>
    [Parameter(Mandatory = true, ParameterSetName = CoreFilePath, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, ParameterSetName = CoreFileLiteralPath, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string CoreFile { get; set; } = "";

    [Parameter(ParameterSetName = CoreFilePath)]
    [Parameter(ParameterSetName = CoreFileLiteralPath)]
    [ValidateNotNullOrEmpty]
    public string GuestMemoryLayout { get; set; } = "";

    [Parameter(ParameterSetName = DomainPath)]
    [Parameter(ParameterSetName = DomainLiteralPath)]
    [ValidateNotNullOrEmpty]
    public string ConnectionUri { get; set; } = Engine.Libvirt.LibvirtConnection.DefaultUri;

    /// <summary>The file to create, or an existing directory: each dump then gets its own name, &lt;domain-or-pid&gt;-&lt;UTC time&gt;.&lt;ext&gt;.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = QmpPath)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = DomainPath)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = CoreFilePath)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = QmpLiteralPath)]
    [Parameter(Mandatory = true, ParameterSetName = DomainLiteralPath)]
    [Parameter(Mandatory = true, ParameterSetName = CoreFileLiteralPath)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string LiteralPath { get; set; } = "";

    [Parameter]
    public DumpFormat Format { get; set; } = DumpFormat.Elf;

    /// <summary>makedumpfile's dump level; VmDebug then writes the kdump file itself.</summary>
    [Parameter(ParameterSetName = QmpPath)]
    [Parameter(ParameterSetName = QmpLiteralPath)]
    [Parameter(ParameterSetName = DomainPath)]
    [Parameter(ParameterSetName = DomainLiteralPath)]
    [Parameter(ParameterSetName = CoreFilePath)]
    [Parameter(ParameterSetName = CoreFileLiteralPath)]
    [ValidateRange(0, 31)]
    public int DumpLevel { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Limit for the whole dump (QMP and libvirt targets); by default it waits as long as QEMU makes progress.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Timeout { get; set; }

    private DumpDestination? _destination;

    /// <summary>
    /// One destination for every input: a directory gives each its own name; a file takes one dump only. The
    /// parameter set is not settled before pipeline input binds, so the bound path parameter decides.
    /// </summary>
    protected override void BeginProcessing() =>
        _destination = new DumpDestination(GetUnresolvedProviderPathFromPSPath(MyInvocation.BoundParameters.ContainsKey(nameof(LiteralPath)) ? LiteralPath : Path));

    protected override void ProcessRecord()
    {
        var path = GetUnresolvedProviderPathFromPSPath(ParameterSetName.EndsWith("LiteralPath", StringComparison.Ordinal) ? LiteralPath : Path);
        if (ParameterSetName.StartsWith("CoreFile", StringComparison.Ordinal))
        {
            ExtractFromCore(path);
            return;
        }

        var viaQmp = ParameterSetName.StartsWith("Qmp", StringComparison.Ordinal);
        var request = new DumpRequest
        {
            QmpSocket = viaQmp ? GetUnresolvedProviderPathFromPSPath(QmpSocket) : null,
            Domain = viaQmp ? null : Domain,
            ConnectionUri = ConnectionUri,
            Path = path,
            Destination = _destination,
            Format = Format,
            Force = Force,
            DumpLevel = MyInvocation.BoundParameters.ContainsKey(nameof(DumpLevel)) ? DumpLevel : null,
            Timeout = Timeout > 0 ? TimeSpan.FromSeconds(Timeout) : null,
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

    private void ExtractFromCore(string path)
    {
        var request = new ProcessCoreDumpRequest
        {
            CoreFile = GetUnresolvedProviderPathFromPSPath(CoreFile),
            Path = path,
            Destination = _destination,
            Format = Format,
            Force = Force,
            GuestMemoryLayout = string.IsNullOrEmpty(GuestMemoryLayout) ? null : GuestMemoryLayout,
            DumpLevel = MyInvocation.BoundParameters.ContainsKey(nameof(DumpLevel)) ? DumpLevel : null,
        };
        if (!ShouldProcess(request.CoreFile, $"Extract guest memory ({Format}) from the QEMU process core to '{path}'"))
        {
            return;
        }

        if (TryRunEngine(ct => ProcessCoreDumper.DumpAsync(request, CreateProgress(), ct), out var dump, request.CoreFile))
        {
            foreach (var warning in dump.Warnings)
            {
                WriteWarning(warning);
            }

            WriteObject(dump);
        }
    }
}
