using System.Management.Automation;
using VmDebug.Engine.CrashConfiguration;
using VmDebug.Engine.Libvirt;

namespace VmDebug.Commands;

/// <summary>
/// The domain source (libvirt or an XML file) and qemu.conf of Get- and Set-GuestPanicDevice, declared once here;
/// Set adds the device settings and runs the planned-change flow itself.
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

    protected GuestPanicRequest CreateRequest() => new()
    {
        Domain = ParameterSetName == GuestPanicParameterSets.Domain ? Domain : null,
        XmlPath = ParameterSetName == GuestPanicParameterSets.Xml ? GetUnresolvedProviderPathFromPSPath(XmlPath) : null,
        ConnectionUri = ConnectionUri,
        ConfigPath = GetUnresolvedProviderPathFromPSPath(ConfigPath),
    };

    /// <summary>What an error names when the engine names nothing: the domain or the XML file.</summary>
    protected static object? ErrorTarget(GuestPanicRequest request) => request.Domain ?? request.XmlPath;
}
