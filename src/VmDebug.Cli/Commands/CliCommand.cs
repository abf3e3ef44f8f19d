using System.CommandLine;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization.Metadata;
using VmDebug.Engine;

namespace VmDebug.Cli.Commands;

/// <summary>
/// Shared shape of a subcommand: a --json option, one engine call, output or a mapped error. Each result type comes
/// with its source-generated JSON metadata (<see cref="CliOutput.JsonContext"/>), so a type the NativeAOT binary
/// could not print does not compile. The metadata is chosen by a selector and built only when a result is written:
/// building it for every command while the command tree is made was a third of the CLI's start-up.
/// </summary>
public static class CliCommand
{
    public static Option<bool> JsonOption() => new("--json") { Description = "Print the result as JSON (one object per line)." };

    /// <summary>Runs one engine call and prints its result; errors go to stderr with a stable exit code.</summary>
    public static void SetEngineAction<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] T>(this Command command,
        Option<bool> json, Func<CliJsonContext, JsonTypeInfo<T>> type, Func<ParseResult, IProgress<OperationProgress>, CancellationToken, Task<T>> engineCall)
        where T : notnull =>
        command.SetOutputAction(json, async (parseResult, asJson, progress, cancellationToken) =>
            CliOutput.WriteResult(await engineCall(parseResult, progress, cancellationToken).ConfigureAwait(false), type(CliOutput.JsonContext), asJson));

    /// <summary>Runs one engine call that yields a list and prints each item (one JSON object per line with --json).</summary>
    public static void SetEngineListAction<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] T>(this Command command,
        Option<bool> json, Func<CliJsonContext, JsonTypeInfo<T>> type, Func<ParseResult, IProgress<OperationProgress>, CancellationToken, Task<IReadOnlyList<T>>> engineCall)
        where T : notnull =>
        command.SetOutputAction(json, async (parseResult, asJson, progress, cancellationToken) =>
        {
            foreach (var item in await engineCall(parseResult, progress, cancellationToken).ConfigureAwait(false))
            {
                CliOutput.WriteResult(item, type(CliOutput.JsonContext), asJson);
            }
        });

    /// <summary>Runs <paramref name="body"/>, which prints the output itself; exit 0, or the error's code.</summary>
    public static void SetOutputAction(this Command command, Option<bool> json,
        Func<ParseResult, bool, IProgress<OperationProgress>, CancellationToken, Task> body)
    {
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var asJson = parseResult.GetValue(json);
            using var signalled = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, CliSignals.Token);
            try
            {
                await body(parseResult, asJson, CliOutput.CreateProgress(), signalled.Token).ConfigureAwait(false);
                return 0;
            }
            catch (Exception e)
            {
                return CliOutput.WriteError(e, asJson, signalled.Token);
            }
        });
    }
}
