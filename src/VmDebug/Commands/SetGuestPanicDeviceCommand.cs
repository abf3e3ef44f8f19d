using System.Management.Automation;
using VmDebug.Engine;
using VmDebug.Engine.CrashConfiguration;
using VmDebug.Engine.Libvirt;

namespace VmDebug.Commands;

[Cmdlet(VerbsCommon.Set, "GuestPanicDevice", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = GuestPanicParameterSets.Xml)]
[OutputType(typeof(GuestPanicConfiguration))]
public sealed class SetGuestPanicDeviceCommand : PlannedChangeCmdlet<GuestPanicRequest, GuestPanicConfiguration>
{
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = GuestPanicParameterSets.Domain, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(LibvirtDomainCompleter))]
    public string Domain { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = GuestPanicParameterSets.Xml, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "Path")]
    [ValidateNotNullOrEmpty]
    public string XmlPath { get; set; } = "";

    [Parameter(ParameterSetName = GuestPanicParameterSets.Domain)]
    [ValidateNotNullOrEmpty]
    public string ConnectionUri { get; set; } = LibvirtConnection.DefaultUri;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string ConfigPath { get; set; } = HostPaths.Default.QemuConf;

    // By property name too, so Get-GuestPanicDevice output (PanicModel, OnCrash, VmcoreInfo) pipes back in.
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("PanicModel")]
    public GuestPanicModel Model { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public CrashAction OnCrash { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public bool VmcoreInfo { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string AutoDumpPath { get; set; } = "";

    [Parameter]
    public SwitchParameter BypassCache { get; set; }

    protected override GuestPanicRequest CreateRequest() =>
        GuestPanicCommandBase.CreateRequest(this, ParameterSetName, Domain, XmlPath, ConnectionUri, ConfigPath) with
        {
            // A Set changes only what it was given.
            Model = MyInvocation.BoundParameters.ContainsKey(nameof(Model)) ? Model : null,
            OnCrash = MyInvocation.BoundParameters.ContainsKey(nameof(OnCrash)) ? OnCrash : null,
            VmcoreInfo = MyInvocation.BoundParameters.ContainsKey(nameof(VmcoreInfo)) ? VmcoreInfo : null,
            AutoDumpPath = MyInvocation.BoundParameters.ContainsKey(nameof(AutoDumpPath)) ? GetUnresolvedProviderPathFromPSPath(AutoDumpPath) : null,
            BypassCache = MyInvocation.BoundParameters.ContainsKey(nameof(BypassCache)) ? BypassCache.IsPresent : null,
        };

    protected override PlannedChange<GuestPanicConfiguration> Plan(GuestPanicRequest request) => GuestPanicCommands.Plan(request);

    protected override object? ErrorTarget(GuestPanicRequest request) => request.Domain ?? request.XmlPath;

    protected override object? ApplyErrorTarget(GuestPanicRequest request, PlannedChange<GuestPanicConfiguration> change) => ErrorTarget(request);
}

[Cmdlet(VerbsCommon.Get, "GuestPanicDevice", DefaultParameterSetName = GuestPanicParameterSets.Xml)]
[OutputType(typeof(GuestPanicConfiguration))]
public sealed class GetGuestPanicDeviceCommand : GuestPanicCommandBase
{
    protected override void ProcessRecord()
    {
        var request = CreateRequest();
        if (TryRunEngine(_ => Task.FromResult(GuestPanicCommands.Get(request)), out var configuration, request.Domain ?? request.XmlPath))
        {
            foreach (var warning in configuration.Warnings)
            {
                WriteWarning(warning);
            }

            WriteObject(configuration);
        }
    }
}

internal static class GuestPanicParameterSets
{
    public const string Domain = "Domain";
    public const string Xml = "XmlPath";
}

/// <summary>
/// The domain source (libvirt or an XML file) and qemu.conf of Get-GuestPanicDevice; Set-GuestPanicDevice declares
/// the same parameters on its planned-change base and builds its request through <see cref="CreateRequest(PSCmdlet, string, string, string, string, string)"/>.
/// XmlPath is the default parameter set for the pipeline's sake: when piped objects carry both a domain name and a
/// path (files from Get-ChildItem, results of -XmlPath), PowerShell picks the default set, so the file wins; objects
/// with only a name, and plain strings, still bind -Domain.
/// </summary>
public abstract class GuestPanicCommandBase : VmDebugCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = GuestPanicParameterSets.Domain, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(LibvirtDomainCompleter))]
    public string Domain { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = GuestPanicParameterSets.Xml, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "Path")]
    [ValidateNotNullOrEmpty]
    public string XmlPath { get; set; } = "";

    [Parameter(ParameterSetName = GuestPanicParameterSets.Domain)]
    [ValidateNotNullOrEmpty]
    public string ConnectionUri { get; set; } = LibvirtConnection.DefaultUri;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string ConfigPath { get; set; } = HostPaths.Default.QemuConf;

    protected GuestPanicRequest CreateRequest() => CreateRequest(this, ParameterSetName, Domain, XmlPath, ConnectionUri, ConfigPath);

    /// <summary>The domain source and qemu.conf of Set- and Get-GuestPanicDevice, whose bases differ (Set plans a change).</summary>
    internal static GuestPanicRequest CreateRequest(PSCmdlet cmdlet, string parameterSet, string domain, string xmlPath, string connectionUri, string configPath) => new()
    {
        Domain = parameterSet == GuestPanicParameterSets.Domain ? domain : null,
        XmlPath = parameterSet == GuestPanicParameterSets.Xml ? cmdlet.GetUnresolvedProviderPathFromPSPath(xmlPath) : null,
        ConnectionUri = connectionUri,
        ConfigPath = cmdlet.GetUnresolvedProviderPathFromPSPath(configPath),
    };
}
