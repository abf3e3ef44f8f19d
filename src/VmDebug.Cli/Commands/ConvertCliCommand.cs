using System.CommandLine;
using VmDebug.Engine.Dump;

namespace VmDebug.Cli.Commands;

/// <summary>vmdebug convert --input PATH --output PATH [--format F] [--force] [--json].</summary>
public static class ConvertCliCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--input", "-i") { Description = "A vmcore: ELF, kdump or makedumpfile flattened.", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "The file to create.", Required = true };
        var format = new Option<string>("--format") { Description = "elf, kdump-zlib, kdump-lzo, kdump-snappy or kdump-zstd.", DefaultValueFactory = _ => "kdump-zlib" };
        format.CompletionSources.Add("elf", "kdump-zlib", "kdump-lzo", "kdump-snappy", "kdump-zstd");
        var force = new Option<bool>("--force") { Description = "Replace an existing file." };
        var level = MemUsageCliCommand.DumpLevelOption(0);
        var json = CliCommand.JsonOption();
        var command = new Command("convert", "Rewrite a vmcore as ELF or compressed kdump (pages compressed in parallel).") { input, output, format, level, force, json };
        command.SetEngineAction(json, context => context.GuestMemoryDump, async (parse, progress, cancellationToken) =>
            await VmcoreConverter.ConvertAsync(parse.GetValue(input)!, parse.GetValue(output)!, DumpFormats.Parse(parse.GetValue(format)!),
                parse.GetValue(force), parse.GetValue(level), progress, cancellationToken));
        return command;
    }
}
