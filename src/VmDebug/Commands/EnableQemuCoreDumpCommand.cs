using System.Management.Automation;
using VmDebug.Engine.CrashConfiguration;

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

    protected override void ProcessRecord() => Run(request => CoreDumpCommands.PlanEnable(request with
    {
        MaxCore = MaxCoreSize,
        IncludeGuestMemory = IncludeGuestMemory.IsPresent ? true : null,
    }));
}

[Cmdlet(VerbsLifecycle.Disable, "QemuCoreDump", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = CoreDumpParameterSets.Host)]
[OutputType(typeof(QemuCoreDumpSetting))]
public sealed class DisableQemuCoreDumpCommand : CoreDumpChangeCommand
{
    protected override void ProcessRecord() => Run(CoreDumpCommands.PlanDisable);
}

internal static class CoreDumpParameterSets
{
    public const string Host = "Host";
    public const string Domain = "Domain";
    public const string Xml = "XmlPath";
}

/// <summary>Parameters and flow shared by Enable- and Disable-QemuCoreDump: plan, show the diff for -WhatIf, apply.</summary>
public abstract class CoreDumpChangeCommand : VmDebugCmdlet
{
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string ConfigPath { get; set; } = "/etc/libvirt/qemu.conf";

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
    public string ConnectionUri { get; set; } = "qemu:///system";

    [Parameter]
    public SwitchParameter RestartDaemon { get; set; }

    /// <summary>Restart the daemon even while domains have active jobs.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected void Run(Func<CoreDumpRequest, CoreDumpChange> planner)
    {
        var request = new CoreDumpRequest
        {
            ConfigPath = GetUnresolvedProviderPathFromPSPath(ConfigPath),
            Domain = ParameterSetName == CoreDumpParameterSets.Domain ? Domain : null,
            XmlPath = ParameterSetName == CoreDumpParameterSets.Xml ? GetUnresolvedProviderPathFromPSPath(XmlPath) : null,
            ConnectionUri = MyInvocation.BoundParameters.ContainsKey(nameof(ConnectionUri)) ? ConnectionUri : null,
            RestartDaemon = RestartDaemon,
            Force = Force,
        };
        if (!TryRunEngine(_ => Task.FromResult(planner(request)), out var change, request.ConfigPath)) return;
        using (change)
        {
            foreach (var line in change.Plan.Changes) WriteVerbose(line);
            if (!ShouldProcess(change.Describe(), $"Change the QEMU core-dump configuration of {change.Target}?\n{change.Describe()}", MyInvocation.MyCommand.Name))
                return;
            if (TryRunEngine(ct => Task.FromResult(change.Apply(ct)), out var setting, change.Target))
            {
                foreach (var warning in setting.Warnings) WriteWarning(warning);
                WriteObject(setting);
            }
        }
    }
}
