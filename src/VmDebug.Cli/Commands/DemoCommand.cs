using System.CommandLine;
using VmDebug.Engine.Demo;

namespace VmDebug.Cli.Commands;

/// <summary>vmdebug demo: the main job end to end on the bundled test guest.</summary>
public static class DemoCommand
{
    public static Command Create()
    {
        var guestDir = new Option<string?>("--guest-dir") { Description = "A test guest built by scripts/build-guest.sh (default: build or reuse the cached one)." };
        var json = CliCommand.JsonOption();
        var command = new Command("demo", "Build the test guest, boot it under QEMU, wait for its panic and report it with timings.") { guestDir, json };
        command.SetEngineAction(json, context => context.DemoReport, async (parse, progress, cancellationToken) =>
            await DemoRunner.RunAsync(parse.GetValue(guestDir), progress, cancellationToken));
        return command;
    }
}
