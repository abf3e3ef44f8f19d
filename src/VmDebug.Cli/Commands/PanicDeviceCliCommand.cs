using System.CommandLine;
using VmDebug.Engine.CrashConfiguration;

namespace VmDebug.Cli.Commands;

/// <summary>
/// vmdebug panic-device set (--domain NAME [--connect URI] | --xml PATH) [--model M] [--on-crash A] [--vmcoreinfo on|off] [--config PATH]
/// [--auto-dump-path DIR] [--bypass-cache] [--what-if] [--json]; vmdebug panic-device show (--domain NAME | --xml PATH) [--json].
/// </summary>
public static class PanicDeviceCliCommand
{
    public static Command Create() => new("panic-device", "Configure a guest's panic device, crash action and VMCOREINFO.") { Set(), Show() };

    private static (Option<string?> Domain, Option<string?> Xml, Option<string?> Connect, Option<string> Config) Source()
    {
        var domain = new Option<string?>("--domain") { Description = "A libvirt domain (its persistent definition)." };
        var xml = new Option<string?>("--xml") { Description = "A domain XML file, edited offline." };
        var config = new Option<string>("--config") { Description = "libvirt's qemu.conf (auto-dump settings).", DefaultValueFactory = _ => HostPaths.Default.QemuConf };
        return (domain, xml, CoreDumpCliCommand.ConnectOption(), config);
    }

    private static void RequireOneSource(Command command, Option<string?> domain, Option<string?> xml) =>
        command.Validators.Add(result =>
        {
            if ((result.GetValue(domain) is null) == (result.GetValue(xml) is null))
            {
                result.AddError("Give exactly one of --domain and --xml.");
            }
        });

    private static GuestPanicRequest Request(ParseResult parse, (Option<string?> Domain, Option<string?> Xml, Option<string?> Connect, Option<string> Config) source) => new()
    {
        Domain = parse.GetValue(source.Domain),
        XmlPath = parse.GetValue(source.Xml) is { } path ? Path.GetFullPath(path) : null,
        ConnectionUri = parse.GetValue(source.Connect),
        ConfigPath = Path.GetFullPath(parse.GetValue(source.Config)!),
    };

    private static Command Set()
    {
        var source = Source();
        var model = new Option<string?>("--model") { Description = "auto (a model for a domain without a panic device), isa, pvpanic or hyperv; unset leaves the device as it is." };
        model.CompletionSources.Add("auto", "isa", "pvpanic", "hyperv");
        var onCrash = new Option<string?>("--on-crash") { Description = "coredump-restart, coredump-destroy, destroy, restart or preserve." };
        onCrash.CompletionSources.Add("coredump-restart", "coredump-destroy", "destroy", "restart", "preserve");
        var vmcoreinfo = new Option<string?>("--vmcoreinfo") { Description = "on or off; unset leaves it as it is." };
        vmcoreinfo.AcceptOnlyFromAmong("on", "off");
        var autoDumpPath = new Option<string?>("--auto-dump-path") { Description = "Directory libvirt writes crash dumps to (qemu.conf auto_dump_path)." };
        var bypassCache = new Option<bool>("--bypass-cache") { Description = "Write auto-dumps with O_DIRECT (qemu.conf auto_dump_bypass_cache)." };
        var whatIf = PlannedChangeAction.WhatIfOption();
        var json = CliCommand.JsonOption();
        var command = new Command("set", "Set the panic device, on_crash and vmcoreinfo of a domain (surgical XML edit).")
        {
            source.Domain, source.Xml, source.Connect, model, onCrash, vmcoreinfo, source.Config, autoDumpPath, bypassCache, whatIf, json,
        };
        RequireOneSource(command, source.Domain, source.Xml);
        command.SetPlannedChangeAction(json, context => context.GuestPanicConfiguration, whatIf, parse =>
        {
            var request = Request(parse, source) with
            {
                Model = parse.GetValue(model) is { } name ? CrashActionNames.ParsePanicModel(name) : null,
                OnCrash = parse.GetValue(onCrash) is { } action ? CrashActionNames.ParseCrashAction(action) : null,
                VmcoreInfo = parse.GetValue(vmcoreinfo) is { } state ? state == "on" : null,
                AutoDumpPath = parse.GetValue(autoDumpPath) is { } dir ? Path.GetFullPath(dir) : null,
                BypassCache = parse.GetValue(bypassCache) ? true : null,
            };
            return GuestPanicCommands.Plan(request);
        });
        return command;
    }

    private static Command Show()
    {
        var source = Source();
        var json = CliCommand.JsonOption();
        var command = new Command("show", "Show a domain's panic device, crash action, VMCOREINFO and auto-dump directory.")
        {
            source.Domain, source.Xml, source.Connect, source.Config, json,
        };
        RequireOneSource(command, source.Domain, source.Xml);
        command.SetEngineAction(json, context => context.GuestPanicConfiguration, (parse, _, _) => Task.FromResult(GuestPanicCommands.Get(Request(parse, source))));
        return command;
    }
}
