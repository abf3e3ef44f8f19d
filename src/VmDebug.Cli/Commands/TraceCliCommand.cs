using System.CommandLine;
using VmDebug.Engine.VirtioTrace;

namespace VmDebug.Cli.Commands;

/// <summary>
/// vmdebug trace setup --cpus N --directory DIR [--domain NAME [--connect URI] | --xml PATH] [--metadata] [--what-if] [--json];
/// vmdebug trace receive --directory DIR --output DIR [--duration S] [--json].
/// </summary>
public static class TraceCliCommand
{
    public static Command Create() => new("trace", "virtio-trace: set up the channels and FIFOs, and receive a guest's ftrace data.") { Setup(), Receive() };

    private static Command Setup()
    {
        var cpus = new Option<int>("--cpus") { Description = "The guest's CPU count: one trace-path-cpuN channel each.", Required = true };
        var directory = new Option<string>("--directory") { Description = "Directory of the FIFO pairs (created 0711 if missing).", Required = true };
        var domain = new Option<string?>("--domain") { Description = "A libvirt domain to add the pipe channels to." };
        var xml = new Option<string?>("--xml") { Description = "A domain XML file to add the pipe channels to." };
        var connect = CoreDumpCliCommand.ConnectOption();
        var metadata = new Option<bool>("--metadata") { Description = "Also a trace-metadata channel, for the tracefs files trace-cmd restore needs." };
        var whatIf = PlannedChangeAction.WhatIfOption();
        var json = CliCommand.JsonOption();
        var command = new Command("setup", "Create the FIFO pairs and add the channels to a domain, or print the QEMU options (neither --domain nor --xml).")
        {
            cpus, directory, domain, xml, connect, metadata, whatIf, json,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(domain) is not null && result.GetValue(xml) is not null)
            {
                result.AddError("Give at most one of --domain and --xml.");
            }
        });
        command.SetPlannedChangeAction(json, context => context.VirtioTraceSetup, whatIf, parse => VirtioTraceSetupCommands.Plan(new VirtioTraceSetupRequest
        {
            CpuCount = parse.GetValue(cpus),
            Directory = Path.GetFullPath(parse.GetValue(directory)!),
            Domain = parse.GetValue(domain),
            XmlPath = parse.GetValue(xml) is { } path ? Path.GetFullPath(path) : null,
            ConnectionUri = parse.GetValue(connect),
            Metadata = parse.GetValue(metadata),
        }));
        return command;
    }

    private static Command Receive()
    {
        var directory = new Option<string>("--directory") { Description = "The FIFO directory of trace setup.", Required = true };
        var output = new Option<string>("--output") { Description = "Directory for trace-cpuN.raw (and the guest's metadata); nothing in it is replaced.", Required = true };
        var duration = new Option<double?>("--duration") { Description = "Seconds to collect; without it, until Ctrl+C." };
        var json = CliCommand.JsonOption();
        var command = new Command("receive", "Start the guest's trace-agent, drain every CPU's channel, stop it, and write one raw file per CPU.")
        {
            directory, output, duration, json,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(duration) is { } s && (s <= 0 || s > 86400))
            {
                result.AddError("--duration must be more than 0 and at most 86400 seconds.");
            }
        });
        command.SetEngineAction(json, context => context.VirtioTraceCapture, async (parse, progress, cancellationToken) => await VirtioTraceReceiver.ReceiveAsync(new VirtioTraceReceiveRequest
        {
            Directory = Path.GetFullPath(parse.GetValue(directory)!),
            OutputPath = Path.GetFullPath(parse.GetValue(output)!),
            Duration = parse.GetValue(duration) is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
        }, progress, cancellationToken).ConfigureAwait(false));
        return command;
    }
}
