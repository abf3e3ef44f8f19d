using System.Management.Automation;
using VmDebug.Engine.GuestKernel;

namespace VmDebug.Commands;

/// <summary>
/// The source parameters Get-GuestKernelLog and Get-GuestCrashInfo share: a dump (-Path/-LiteralPath), a QEMU
/// process core (-CoreFile), or a live guest (-QmpSocket, -Domain [-ConnectionUri], optionally -Pause).
/// </summary>
public abstract class GuestKernelCmdlet : VmDebugCmdlet
{
    protected const string PathSet = "Path";
    protected const string LiteralPathSet = "LiteralPath";
    protected const string CoreFileSet = "CoreFile";
    protected const string QmpSet = "QmpSocket";
    protected const string DomainSet = "Domain";

    /// <summary>A vmcore (ELF, kdump in any codec, flattened); binds from Invoke-GuestMemoryDump's Path.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string LiteralPath { get; set; } = "";

    /// <summary>A QEMU process core (dump-guest-core=on); binds from Get-QemuCoreDump's CoreFile.</summary>
    [Parameter(Mandatory = true, ParameterSetName = CoreFileSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string CoreFile { get; set; } = "";

    [Parameter(ParameterSetName = CoreFileSet)]
    [ValidateNotNullOrEmpty]
    public string GuestMemoryLayout { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = QmpSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string QmpSocket { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = DomainSet, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ArgumentCompleter(typeof(LibvirtDomainCompleter))]
    [ValidateNotNullOrEmpty]
    public string Domain { get; set; } = "";

    [Parameter(ParameterSetName = DomainSet)]
    [ValidateNotNullOrEmpty]
    public string ConnectionUri { get; set; } = Engine.Libvirt.LibvirtConnection.DefaultUri;

    /// <summary>Pause a running live guest while reading it; it is resumed afterwards. Without it the guest keeps running.</summary>
    [Parameter(ParameterSetName = QmpSet)]
    [Parameter(ParameterSetName = DomainSet)]
    public SwitchParameter Pause { get; set; }

    /// <summary>The source the bound parameter set names, paths resolved against the current location.</summary>
    protected GuestKernelTarget Target => ParameterSetName switch
    {
        PathSet => new GuestKernelTarget { Path = GetUnresolvedProviderPathFromPSPath(Path) },
        LiteralPathSet => new GuestKernelTarget { Path = GetUnresolvedProviderPathFromPSPath(LiteralPath) },
        CoreFileSet => new GuestKernelTarget
        {
            CoreFile = GetUnresolvedProviderPathFromPSPath(CoreFile),
            GuestMemoryLayout = string.IsNullOrEmpty(GuestMemoryLayout) ? null : GuestMemoryLayout,
        },
        QmpSet => new GuestKernelTarget { QmpSocket = GetUnresolvedProviderPathFromPSPath(QmpSocket), Pause = Pause },
        _ => new GuestKernelTarget { Domain = Domain, ConnectionUri = ConnectionUri, Pause = Pause },
    };
}
