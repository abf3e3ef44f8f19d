using System.CommandLine;
using VmDebug.Engine.Dump;
using VmDebug.Engine.ProcessCore;

namespace VmDebug.Cli.Commands;

/// <summary>
/// vmdebug dump (--socket PATH | --domain NAME [--connect URI] | --core-file PATH [--guest-memory-layout L])
/// --format F --output PATH [--force] [--json].
/// </summary>
public static class DumpCliCommand
{
    public static Command Create()
    {
        var socket = new Option<string?>("--socket") { Description = "The guest's QMP Unix socket." };
        var domain = new Option<string?>("--domain") { Description = "A libvirt domain name." };
        var coreFile = new Option<string?>("--core-file") { Description = "A QEMU process core (dump-guest-core=on) to extract guest memory from." };
        var connect = new Option<string>("--connect") { Description = "libvirt connection URI.", DefaultValueFactory = _ => Engine.Libvirt.LibvirtConnection.DefaultUri };
        var format = new Option<string>("--format") { Description = "elf, kdump-zlib, kdump-lzo, kdump-snappy, kdump-zstd or win-dmp.", DefaultValueFactory = _ => "elf" };
        format.CompletionSources.Add(Enum.GetValues<DumpFormat>().Select(DumpFormats.QmpName).ToArray());
        var layout = new Option<string?>("--guest-memory-layout")
        {
            Description = "With --core-file: the guest-physical layout when QEMU's command line does not settle it: q35, pc, or ranges "
                + "START-END@RAMOFFSET,... (optionally ,ram=0xHOSTADDR).",
        };
        var level = new Option<int?>("--dump-level", "-d")
        {
            Description = "makedumpfile's mask of pages to leave out (0-31: 1 zero, 2 cache without private, 4 all cache, 8 user data, 16 free); "
                + "VmDebug then writes the kdump file itself from QEMU's ELF.",
        };
        var output = new Option<string>("--output", "-o") { Description = "The dump file to create.", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace an existing regular file (never a FIFO, device or symlink)." };
        var timeout = new Option<int?>("--timeout") { Description = "Give up when the whole dump takes longer than this many seconds (--socket and --domain)." };
        var json = CliCommand.JsonOption();
        var command = new Command("dump", "Dump a guest's memory into a file that crash and makedumpfile open (the guest is paused meanwhile), "
            + "or extract it from a QEMU process core.")
        {
            socket, domain, coreFile, connect, format, level, layout, output, force, timeout, json,
        };
        command.Validators.Add(result =>
        {
            var targets = new[] { result.GetValue(socket), result.GetValue(domain), result.GetValue(coreFile) }.Count(t => t is not null);
            if (targets != 1)
            {
                result.AddError("Give exactly one of --socket, --domain and --core-file.");
            }
            if (result.GetValue(timeout) is <= 0)
            {
                result.AddError("--timeout must be a positive number of seconds.");
            }
            if (result.GetValue(layout) is not null && result.GetValue(coreFile) is null)
            {
                result.AddError("--guest-memory-layout applies only to --core-file.");
            }
        });
        command.SetEngineAction(json, context => context.GuestMemoryDump, async (parse, progress, cancellationToken) =>
        {
            var dumpFormat = DumpFormats.Parse(parse.GetValue(format)!);
            if (parse.GetValue(coreFile) is { } core)
            {
                return await ProcessCoreDumper.DumpAsync(new ProcessCoreDumpRequest
                {
                    CoreFile = core,
                    Path = parse.GetValue(output)!,
                    Format = dumpFormat,
                    Force = parse.GetValue(force),
                    GuestMemoryLayout = parse.GetValue(layout),
                    DumpLevel = parse.GetValue(level),
                }, progress, cancellationToken);
            }
            var request = new DumpRequest
            {
                QmpSocket = parse.GetValue(socket),
                Domain = parse.GetValue(domain),
                ConnectionUri = parse.GetValue(connect)!,
                Path = parse.GetValue(output)!,
                Format = dumpFormat,
                Force = parse.GetValue(force),
                DumpLevel = parse.GetValue(level),
                Timeout = parse.GetValue(timeout) is int seconds ? TimeSpan.FromSeconds(seconds) : null,
            };
            return await GuestMemoryDumper.DumpAsync(request, progress, cancellationToken);
        });
        return command;
    }
}
