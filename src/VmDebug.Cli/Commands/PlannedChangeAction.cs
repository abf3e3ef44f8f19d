using System.CommandLine;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization.Metadata;
using VmDebug.Engine;

namespace VmDebug.Cli.Commands;

/// <summary>The CLI's one way to run a planned change: --what-if prints the diff (or the preview with --json), else apply.</summary>
public static class PlannedChangeAction
{
    public static Option<bool> WhatIfOption() => new("--what-if") { Description = "Print the exact diff and change nothing." };

    public static void SetPlannedChangeAction<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] TResult>(
        this Command command, Option<bool> json, Func<CliJsonContext, JsonTypeInfo<TResult>> type, Option<bool> whatIf, Func<ParseResult, PlannedChange<TResult>> plan)
        where TResult : class =>
        command.SetOutputAction(json, (parse, asJson, _, cancellationToken) =>
        {
            using var change = plan(parse);
            if (parse.GetValue(whatIf) && !asJson)
            {
                CliOutput.WriteText(change.Describe());
            }
            else
            {
                CliOutput.WriteResult(parse.GetValue(whatIf) ? change.Preview : change.Apply(cancellationToken), type(CliOutput.JsonContext), asJson);
            }
            return Task.CompletedTask;
        });
}
