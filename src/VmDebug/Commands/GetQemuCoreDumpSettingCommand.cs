using System.Management.Automation;
using VmDebug.Engine.CrashConfiguration;
using VmDebug.Engine.Libvirt;

namespace VmDebug.Commands;

[Cmdlet(VerbsCommon.Get, "QemuCoreDumpSetting")]
[OutputType(typeof(QemuCoreDumpSetting))]
public sealed class GetQemuCoreDumpSettingCommand : VmDebugCmdlet
{
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string ConfigPath { get; set; } = HostPaths.Default.QemuConf;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string ConnectionUri { get; set; } = LibvirtConnection.DefaultUri;

    protected override void ProcessRecord()
    {
        var request = new CoreDumpRequest
        {
            ConfigPath = GetUnresolvedProviderPathFromPSPath(ConfigPath),
            ConnectionUri = MyInvocation.BoundParameters.ContainsKey(nameof(ConnectionUri)) ? ConnectionUri : null,
        };
        if (TryRunEngine(_ => Task.FromResult(CoreDumpCommands.Get(request)), out var setting, request.ConfigPath))
        {
            foreach (var warning in setting.Warnings)
            {
                WriteWarning(warning);
            }

            WriteObject(setting);
        }
    }
}
