using System.CommandLine;
using VmDebug.Engine;

namespace VmDebug.Cli.Commands;

/// <summary>The CLI's one way to run a planned change: --what-if prints the diff (or the preview with --json), else apply.</summary>
public static class PlannedChangeAction
{
    public static Option<bool> WhatIfOption() => new("--what-if") { Description = "Print the exact diff and change nothing." };

    public static void SetPlannedChangeAction<TResult>(this Command command, Option<bool> json, Option<bool> whatIf,
        Func<ParseResult, PlannedChange<TResult>> plan)
        where TResult : class =>
        command.SetEngineAction(json, (parse, _, cancellationToken) =>
        {
            using var change = plan(parse);
            object result = parse.GetValue(whatIf)
                ? parse.GetValue(json) ? change.Preview : change.Describe()
                : change.Apply(cancellationToken);
            return Task.FromResult(result);
        });
}
