using System.CommandLine;
using System.CommandLine.Invocation;
using System.Text.Json.Nodes;
using VmDebug.Cli;
using VmDebug.Cli.Commands;

var root = CommandCatalog.RootFor(args);
var parse = root.Parse(args);
if (parse.Errors.Count > 0 && parse.Action is ParseErrorAction)
{
    // Usage errors exit 2, like other Unix tools; --help still shows help whatever else is wrong.
    var asJson = args.Contains("--json");
    foreach (var error in parse.Errors)
    {
        Console.Error.WriteLine(asJson
            ? new JsonObject { ["error"] = new JsonObject { ["id"] = "UsageError", ["kind"] = "InvalidArgument", ["message"] = error.Message } }.ToJsonString(CliOutput.Json)
            : $"vmdebug: {error.Message}");
    }

    if (!asJson)
    {
        Console.Error.WriteLine($"Run '{string.Join(' ', parse.CommandResult.Command == root ? [CommandCatalog.ProgramName] : [CommandCatalog.ProgramName, parse.CommandResult.Command.Name])} --help' for usage.");
    }

    return 2;
}

// Without an explicit timeout System.CommandLine 2.0.0 installs no SIGINT/SIGTERM handler (checked): Ctrl+C killed the
// process before engine work could close sockets or remove partial files. With it, Ctrl+C cancels the action's token
// and waits this long for the action to finish before exiting anyway.
var handleSignals = CliSignals.AreNeededBy(parse);
if (handleSignals)
{
    CliSignals.Install();
}

return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = handleSignals ? TimeSpan.FromSeconds(10) : null });
