using System.Management.Automation;
using VmDebug.Engine.CrashConfiguration;

namespace VmDebug.Commands;

[Cmdlet(VerbsCommon.Set, "GuestPanicDevice", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = GuestPanicParameterSets.Xml)]
[OutputType(typeof(GuestPanicConfiguration))]
public sealed class SetGuestPanicDeviceCommand : GuestPanicCommandBase
{
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

    protected override void ProcessRecord()
    {
        var request = CreateRequest() with
        {
            // A Set changes only what it was given.
            Model = MyInvocation.BoundParameters.ContainsKey(nameof(Model)) ? Model : null,
            OnCrash = MyInvocation.BoundParameters.ContainsKey(nameof(OnCrash)) ? OnCrash : null,
            VmcoreInfo = MyInvocation.BoundParameters.ContainsKey(nameof(VmcoreInfo)) ? VmcoreInfo : null,
            AutoDumpPath = MyInvocation.BoundParameters.ContainsKey(nameof(AutoDumpPath)) ? GetUnresolvedProviderPathFromPSPath(AutoDumpPath) : null,
            BypassCache = MyInvocation.BoundParameters.ContainsKey(nameof(BypassCache)) ? BypassCache.IsPresent : null,
        };
        var target = request.Domain ?? request.XmlPath!;
        if (!TryRunEngine(_ => Task.FromResult(GuestPanicCommands.Plan(request)), out var change, target)) return;
        using (change)
        {
            foreach (var line in change.Preview.Changes) WriteVerbose(line);
            if (!ShouldProcess(change.Describe(), $"Change the panic configuration of {change.Target}?\n{change.Describe()}", MyInvocation.MyCommand.Name))
                return;
            if (TryRunEngine(ct => Task.FromResult(change.Apply(ct)), out var configuration, target))
            {
                foreach (var warning in configuration.Warnings) WriteWarning(warning);
                WriteObject(configuration);
            }
        }
    }
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
            foreach (var warning in configuration.Warnings) WriteWarning(warning);
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
/// The domain source (libvirt or an XML file) and qemu.conf, shared by Set- and Get-GuestPanicDevice.
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
    public string ConnectionUri { get; set; } = "qemu:///system";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string ConfigPath { get; set; } = "/etc/libvirt/qemu.conf";

    protected GuestPanicRequest CreateRequest() => new()
    {
        Domain = ParameterSetName == GuestPanicParameterSets.Domain ? Domain : null,
        XmlPath = ParameterSetName == GuestPanicParameterSets.Xml ? GetUnresolvedProviderPathFromPSPath(XmlPath) : null,
        ConnectionUri = ConnectionUri,
        ConfigPath = GetUnresolvedProviderPathFromPSPath(ConfigPath),
    };
}
