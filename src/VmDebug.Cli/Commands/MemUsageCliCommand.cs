using System.CommandLine;
using VmDebug.Engine.PageFilter;

namespace VmDebug.Cli.Commands;

/// <summary>vmdebug mem-usage --input PATH [--dump-level N] [--json].</summary>
public static class MemUsageCliCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--input", "-i") { Description = "A vmcore with VMCOREINFO: ELF, kdump or makedumpfile flattened.", Required = true };
        var level = DumpLevelOption(PageClassifier.MaxDumpLevel);
        var json = CliCommand.JsonOption();
        var command = new Command("mem-usage",
            "Count a dump's pages by makedumpfile class (zero, cache, private cache, user, free, hwpoison, offline) without writing anything.")
        {
            input, level, json,
        };
        command.SetEngineAction(json, context => context.GuestMemoryUsage, (parse, progress, cancellationToken) =>
            Task.FromResult(GuestMemoryUsageReader.Measure(parse.GetValue(input)!, parse.GetValue(level), progress, cancellationToken)));
        return command;
    }

    /// <summary>--dump-level, shared by dump, convert and mem-usage.</summary>
    public static Option<int> DumpLevelOption(int defaultLevel) => new("--dump-level", "-d")
    {
        Description = "makedumpfile's mask of pages to leave out: 1 zero, 2 cache without private, 4 all cache, 8 user data, 16 free (0-31).",
        DefaultValueFactory = _ => defaultLevel,
    };
}
