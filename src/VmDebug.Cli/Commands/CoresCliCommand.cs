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
        var noSystemd = new Option<bool>("--no-systemd") { Description = "Do not list the cores in systemd-coredump's store (/var/lib/systemd/coredump)." };
        var json = CliCommand.JsonOption();
        var command = new Command("cores", "List QEMU process cores (plain files and systemd-coredump): PID, time, signal, command line, "
            + "and whether guest RAM is in them.")
        {
            path, recurse, noSystemd, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var asJson = parse.GetValue(json);
            try
            {
                var listing = await QemuCoreDumpFinder.FindAsync(new QemuCoreDumpQuery
                {
                    Paths = parse.GetValue(path) ?? [],
                    Recurse = parse.GetValue(recurse),
                    IncludeSystemdCoredump = !parse.GetValue(noSystemd),
                }, cancellationToken).ConfigureAwait(false);
                foreach (var core in listing.Cores)
                {
                    CliOutput.WriteResult(core, CliOutput.JsonContext.QemuProcessCore, asJson);
                }
                // Every bad path is reported; the exit code is the first one's.
                var exitCode = 0;
                foreach (var error in listing.Errors)
                {
                    var code = CliOutput.WriteError(error, asJson, cancellationToken);
                    exitCode = exitCode == 0 ? code : exitCode;
                }
                return exitCode;
            }
            catch (Exception e)
            {
                return CliOutput.WriteError(e, asJson, cancellationToken);
            }
        });
        return command;
    }
}
