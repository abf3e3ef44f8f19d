using System.Management.Automation;
using VmDebug.Engine;
using VmDebug.Engine.CrashConfiguration;
using VmDebug.Engine.Libvirt;

namespace VmDebug.Commands;

[Cmdlet(VerbsLifecycle.Enable, "QemuCoreDump", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = CoreDumpParameterSets.Host)]
[OutputType(typeof(QemuCoreDumpSetting))]
public sealed class EnableQemuCoreDumpCommand : CoreDumpChangeCommand
{
    /// <summary>"unlimited" or a size with units (4GiB, 512M) or a byte count.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string MaxCoreSize { get; set; } = "unlimited";

    [Parameter]
    public SwitchParameter IncludeGuestMemory { get; set; }

    protected override CoreDumpRequest CreateRequest() => base.CreateRequest() with
    {
        MaxCore = MaxCoreSize,
        IncludeGuestMemory = IncludeGuestMemory.IsPresent ? true : null,
    };

    protected override PlannedChange<QemuCoreDumpSetting> Plan(CoreDumpRequest request) => CoreDumpCommands.PlanEnable(request);
}

[Cmdlet(VerbsLifecycle.Disable, "QemuCoreDump", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = CoreDumpParameterSets.Host)]
[OutputType(typeof(QemuCoreDumpSetting))]
public sealed class DisableQemuCoreDumpCommand : CoreDumpChangeCommand
{
    protected override PlannedChange<QemuCoreDumpSetting> Plan(CoreDumpRequest request) => CoreDumpCommands.PlanDisable(request);
}

internal static class CoreDumpParameterSets
{
    public const string Host = "Host";
    public const string Domain = "Domain";
    public const string Xml = "XmlPath";
}

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
