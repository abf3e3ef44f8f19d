using System.Management.Automation;
using VmDebug.Engine.CrashConfiguration;

namespace VmDebug.Commands;

[Cmdlet(VerbsCommon.Get, "GuestPanicDevice", DefaultParameterSetName = GuestPanicParameterSets.Xml)]
[OutputType(typeof(GuestPanicConfiguration))]
public sealed class GetGuestPanicDeviceCommand : GuestPanicCommandBase
{
    protected override void ProcessRecord()
    {
        var request = CreateRequest();
        if (TryRunEngine(_ => Task.FromResult(GuestPanicCommands.Get(request)), out var configuration, ErrorTarget(request)))
        {
            foreach (var warning in configuration.Warnings)
            {
                WriteWarning(warning);
            }

            WriteObject(configuration);
        }
    }
}
