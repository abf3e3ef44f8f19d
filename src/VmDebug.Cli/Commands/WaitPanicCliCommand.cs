using System.CommandLine;
using VmDebug.Engine.Panic;

namespace VmDebug.Cli.Commands;

/// <summary>vmdebug wait-panic --socket PATH [--timeout S] [--json].</summary>
public static class WaitPanicCliCommand
{
    public static Command Create()
    {
        var socket = new Option<string>("--socket") { Description = "Path of the guest's QMP Unix socket.", Required = true };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait; 0 waits until the panic or Ctrl+C." };
        var json = CliCommand.JsonOption();
        var command = new Command("wait-panic", "Wait until the guest panics (pvpanic) and print QEMU's panic event.") { socket, timeout, json };
        command.SetEngineAction(json, context => context.GuestPanicEvent, async (parse, _, cancellationToken) =>
        {
            var seconds = parse.GetValue(timeout);
            return await GuestPanicWatcher.WaitAsync(parse.GetValue(socket)!, seconds > 0 ? TimeSpan.FromSeconds(seconds) : null, cancellationToken);
        });
        return command;
    }
}
