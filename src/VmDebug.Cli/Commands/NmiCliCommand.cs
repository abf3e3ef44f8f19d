using System.CommandLine;
using VmDebug.Engine.Libvirt;
using VmDebug.Engine.Nmi;

namespace VmDebug.Cli.Commands;

/// <summary>vmdebug nmi (--socket PATH | --domain NAME [--connect URI]) [--json].</summary>
public static class NmiCliCommand
{
    public static Command Create()
    {
        var socket = new Option<string?>("--socket") { Description = "The guest's QMP Unix socket." };
        var domain = new Option<string?>("--domain") { Description = "A libvirt domain name." };
        var connect = new Option<string>("--connect") { Description = "libvirt connection URI.", DefaultValueFactory = _ => LibvirtConnection.DefaultUri };
        var json = CliCommand.JsonOption();
        var command = new Command("nmi", "Inject a non-maskable interrupt into a guest: a hung guest with kernel.unknown_nmi_panic=1 "
            + "panics on it, so its panic can be dumped.")
        {
            socket, domain, connect, json,
        };
        command.Validators.Add(result =>
        {
            if ((result.GetValue(socket) is null) == (result.GetValue(domain) is null))
            {
                result.AddError("Give exactly one of --socket and --domain.");
            }

            if (result.GetValue(socket) is not null && result.GetResult(connect) is { Implicit: false })
            {
                result.AddError("--connect applies only to --domain.");
            }
        });
        command.SetEngineAction(json, context => context.GuestNmi, async (parse, _, cancellationToken) =>
            parse.GetValue(socket) is { } path
                ? await GuestNmiSender.SendAsync(Path.GetFullPath(path), cancellationToken)
                : await GuestNmiSender.SendAsync(parse.GetValue(connect), parse.GetValue(domain)!, cancellationToken));
        return command;
    }
}
