using System.CommandLine;
using VmDebug.Engine.Fleet;

namespace VmDebug.Cli.Commands;

/// <summary>vmdebug crashes --archive DIR [--guest NAME] [--after DATE] [--json]: the archived crashes, oldest first.</summary>
public static class CrashesCliCommand
{
    public static Command Create()
    {
        var archive = new Option<string>("--archive") { Description = "The crash archive directory vmdebug watch writes.", Required = true };
        var guest = new Option<string?>("--guest") { Description = "Only this guest's crashes." };
        var after = new Option<string?>("--after") { Description = "Only crashes after this time (ISO 8601; UTC unless an offset is given)." };
        var json = CliCommand.JsonOption();
        var command = new Command("crashes", "List the crashes in an archive of vmdebug watch (from each crash.json).") { archive, guest, after, json };
        command.SetEngineListAction(json, context => context.GuestCrash, (parse, _, _) =>
        {
            DateTimeOffset? since = parse.GetValue(after) is { } text ? CrashArchive.ParseTime(text) : null;
            var problems = new List<string>();
            var crashes = new CrashArchive(parse.GetValue(archive)!).ListExisting(parse.GetValue(guest), since, problems);
            foreach (var problem in problems)
            {
                Console.Error.WriteLine($"vmdebug: skipped: {problem}");
            }
            return Task.FromResult(crashes);
        });
        return command;
    }
}
