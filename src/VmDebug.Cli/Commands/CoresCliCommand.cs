using System.CommandLine;
using VmDebug.Engine.ProcessCore;

namespace VmDebug.Cli.Commands;

/// <summary>vmdebug cores [--path DIR_OR_FILE ...] [--recurse] [--no-systemd] [--json].</summary>
public static class CoresCliCommand
{
    public static Command Create()
    {
        var path = new Option<string[]>("--path") { Description = "Core files or directories to examine (repeatable).", AllowMultipleArgumentsPerToken = true };
        var recurse = new Option<bool>("--recurse") { Description = "Also examine the directories' subdirectories." };
        var noSystemd = new Option<bool>("--no-systemd") { Description = "Do not list systemd-coredump's entries (coredumpctl)." };
        var json = CliCommand.JsonOption();
        var command = new Command("cores", "List QEMU process cores (plain files and systemd-coredump): PID, time, signal, command line, "
            + "and whether guest RAM is in them.")
        {
            path, recurse, noSystemd, json,
        };
        command.SetEngineListAction(json, (parse, _, cancellationToken) => QemuCoreDumpFinder.FindAsync(new QemuCoreDumpQuery
        {
            Paths = parse.GetValue(path) ?? [],
            Recurse = parse.GetValue(recurse),
            IncludeSystemdCoredump = !parse.GetValue(noSystemd),
        }, cancellationToken));
        return command;
    }
}
