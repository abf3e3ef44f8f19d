using System.CommandLine;
using VmDebug.Engine.KernelLog;

namespace VmDebug.Cli.Commands;

/// <summary>vmdebug crash-info (--input PATH | --core-file PATH | --socket PATH | --domain NAME [--connect URI]) [--pause] [--json].</summary>
public static class CrashInfoCliCommand
{
    public static Command Create()
    {
        var target = GuestKernelTargetOptions.Create();
        var json = CliCommand.JsonOption();
        var command = new Command("crash-info", "Summarise why a guest kernel died: panic message, oops lines, crashing task, call trace, "
            + "vCPU registers, symbols from the kernel's own kallsyms (no vmlinux).")
        {
            json,
        };
        target.AddTo(command);
        command.SetEngineAction(json, context => context.GuestCrashInfo, async (parse, _, cancellationToken) =>
            await GuestCrashAnalyzer.ReadAsync(target.Get(parse), cancellationToken));
        return command;
    }
}
