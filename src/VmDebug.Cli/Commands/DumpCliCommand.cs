using System.CommandLine;
using VmDebug.Engine;
using VmDebug.Engine.Dump;

namespace VmDebug.Cli.Commands;

/// <summary>vmdebug dump (--socket PATH | --domain NAME [--connect URI]) --format F --output PATH [--force] [--json].</summary>
public static class DumpCliCommand
{
    public static Command Create()
    {
        var socket = new Option<string?>("--socket") { Description = "The guest's QMP Unix socket." };
        var domain = new Option<string?>("--domain") { Description = "A libvirt domain name." };
        var connect = new Option<string>("--connect") { Description = "libvirt connection URI.", DefaultValueFactory = _ => "qemu:///system" };
        var format = new Option<string>("--format") { Description = "elf, kdump-zlib, kdump-lzo, kdump-snappy or win-dmp.", DefaultValueFactory = _ => "elf" };
        format.CompletionSources.Add(Enum.GetValues<DumpFormat>().Select(DumpFormats.QmpName).ToArray());
        var output = new Option<string>("--output", "-o") { Description = "The dump file to create.", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace an existing file." };
        var json = CliCommand.JsonOption();
        var command = new Command("dump", "Dump a guest's memory into a file that crash and makedumpfile open (the guest is paused meanwhile).")
        {
            socket, domain, connect, format, output, force, json,
        };
        command.Validators.Add(result =>
        {
            if ((result.GetValue(socket) is null) == (result.GetValue(domain) is null))
            {
                result.AddError("Give exactly one of --socket and --domain.");
            }
        });
        command.SetEngineAction(json, async (parse, progress, cancellationToken) =>
        {
            var request = new DumpRequest
            {
                QmpSocket = parse.GetValue(socket),
                Domain = parse.GetValue(domain),
                ConnectionUri = parse.GetValue(connect)!,
                Path = parse.GetValue(output)!,
                Format = DumpFormats.Parse(parse.GetValue(format)!),
                Force = parse.GetValue(force),
            };
            return await GuestMemoryDumper.DumpAsync(request, progress, cancellationToken);
        });
        return command;
    }
}
