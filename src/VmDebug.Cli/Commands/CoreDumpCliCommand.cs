using System.CommandLine;
using VmDebug.Engine.CrashConfiguration;
using VmDebug.Engine.Libvirt;

namespace VmDebug.Cli.Commands;

/// <summary>
/// vmdebug coredump enable|disable [--config PATH] [--max-core unlimited|SIZE] [--guest-memory] [--domain NAME [--connect URI] | --xml PATH]
/// [--restart-daemon] [--force] [--what-if] [--json]; vmdebug coredump show [--config PATH] [--connect URI] [--json].
/// </summary>
public static class CoreDumpCliCommand
{
    public static Command Create() => new("coredump", "Configure QEMU process core dumps in libvirt's qemu.conf (and a domain's dumpCore).")
    {
        Change("enable", "Let QEMU processes dump core (max_core), optionally with guest memory (dump_guest_core).", enable: true),
        Show(),
        Change("disable", "Remove max_core and dump_guest_core so libvirt's defaults (no cores) apply again.", enable: false),
    };

    private static Option<string> ConfigOption() => new("--config") { Description = "libvirt's qemu.conf.", DefaultValueFactory = _ => HostPaths.Default.QemuConf };

    internal static Option<string?> ConnectOption() => new("--connect") { Description = $"libvirt connection URI (default {LibvirtConnection.DefaultUri})." };

    private static Command Show()
    {
        var config = ConfigOption();
        var connect = ConnectOption();
        var json = CliCommand.JsonOption();
        var command = new Command("show", "Show the effective core-dump settings, where cores go, and what is missing.") { config, connect, json };
        command.SetEngineAction(json, context => context.QemuCoreDumpSetting, (parse, _, _) => Task.FromResult(CoreDumpCommands.Get(new CoreDumpRequest
        {
            ConfigPath = Path.GetFullPath(parse.GetValue(config)!),
            ConnectionUri = parse.GetValue(connect),
        })));
        return command;
    }

    private static Command Change(string name, string description, bool enable)
    {
        var config = ConfigOption();
        var maxCore = new Option<string>("--max-core") { Description = "\"unlimited\" or a size such as 8GiB.", DefaultValueFactory = _ => "unlimited" };
        var guestMemory = new Option<bool>("--guest-memory") { Description = "Include guest RAM in QEMU cores (dump_guest_core = 1)." };
        var domain = new Option<string?>("--domain") { Description = "A libvirt domain whose persistent <memory dumpCore> is set (enable) or removed (disable)." };
        var connect = ConnectOption();
        var xml = new Option<string?>("--xml") { Description = "A domain XML file to edit offline instead of a libvirt domain." };
        var restart = new Option<bool>("--restart-daemon") { Description = "Restart libvirtd/virtqemud so new guests get the settings." };
        var force = new Option<bool>("--force") { Description = "Restart the daemon even while domains have active jobs." };
        var whatIf = PlannedChangeAction.WhatIfOption();
        var json = CliCommand.JsonOption();
        var command = new Command(name, description) { config };
        if (enable)
        {
            command.Options.Add(maxCore);
            command.Options.Add(guestMemory);
        }
        foreach (var option in new Option[] { domain, connect, xml, restart, force, whatIf, json })
        {
            command.Options.Add(option);
        }

        command.Validators.Add(result =>
        {
            if (result.GetValue(domain) is not null && result.GetValue(xml) is not null)
            {
                result.AddError("Give at most one of --domain and --xml.");
            }
        });
        command.SetPlannedChangeAction(json, context => context.QemuCoreDumpSetting, whatIf, parse =>
        {
            var request = new CoreDumpRequest
            {
                ConfigPath = Path.GetFullPath(parse.GetValue(config)!),
                MaxCore = enable ? parse.GetValue(maxCore) : null,
                IncludeGuestMemory = enable && parse.GetValue(guestMemory) ? true : null,
                Domain = parse.GetValue(domain),
                XmlPath = parse.GetValue(xml) is { } path ? Path.GetFullPath(path) : null,
                ConnectionUri = parse.GetValue(connect),
                RestartDaemon = parse.GetValue(restart),
                Force = parse.GetValue(force),
            };
            return enable ? CoreDumpCommands.PlanEnable(request) : CoreDumpCommands.PlanDisable(request);
        });
        return command;
    }
}
