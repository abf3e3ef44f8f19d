using System.Management.Automation;
using VmDebug.Engine.CrashConfiguration;
using VmDebug.Engine.Libvirt;

namespace VmDebug.Commands;

/// <summary>Parameters shared by Enable- and Disable-QemuCoreDump.</summary>
public abstract class CoreDumpChangeCommand : PlannedChangeCmdlet<CoreDumpRequest, QemuCoreDumpSetting>
{
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string ConfigPath { get; set; } = HostPaths.Default.QemuConf;

    // No Name alias: files piped from Get-ChildItem carry a Name, and must bind -XmlPath (by PSPath) alone.
    [Parameter(Mandatory = true, ParameterSetName = CoreDumpParameterSets.Domain, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(LibvirtDomainCompleter))]
    public string Domain { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = CoreDumpParameterSets.Xml, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath")]
    [ValidateNotNullOrEmpty]
    public string XmlPath { get; set; } = "";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string ConnectionUri { get; set; } = LibvirtConnection.DefaultUri;

    [Parameter]
    public SwitchParameter RestartDaemon { get; set; }

    /// <summary>Restart the daemon even while domains have active jobs.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override CoreDumpRequest CreateRequest() => new()
    {
        ConfigPath = GetUnresolvedProviderPathFromPSPath(ConfigPath),
        Domain = ParameterSetName == CoreDumpParameterSets.Domain ? Domain : null,
        XmlPath = ParameterSetName == CoreDumpParameterSets.Xml ? GetUnresolvedProviderPathFromPSPath(XmlPath) : null,
        ConnectionUri = MyInvocation.BoundParameters.ContainsKey(nameof(ConnectionUri)) ? ConnectionUri : null,
        RestartDaemon = RestartDaemon,
        Force = Force,
    };

    protected override object? ErrorTarget(CoreDumpRequest request) => request.ConfigPath;
}
