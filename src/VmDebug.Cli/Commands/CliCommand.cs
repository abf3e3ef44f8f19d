using System.CommandLine;
using VmDebug.Engine;

namespace VmDebug.Cli.Commands;

/// <summary>Shared shape of a subcommand: a --json option, one engine call, output or a mapped error.</summary>
public static class CliCommand
{
    public static Option<bool> JsonOption() => new("--json") { Description = "Print the result as JSON (one object per line)." };

    /// <summary>Runs one engine call and prints its result; errors go to stderr with a stable exit code.</summary>
    public static void SetEngineAction(this Command command, Option<bool> json,
        Func<ParseResult, IProgress<OperationProgress>, CancellationToken, Task<object>> engineCall)
    {
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var asJson = parseResult.GetValue(json);
            using var signalled = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, CliSignals.Token);
            try
            {
                var result = await engineCall(parseResult, CliOutput.CreateProgress(), signalled.Token).ConfigureAwait(false);
                CliOutput.WriteResult(result, asJson);
                return 0;
            }
            catch (Exception e)
            {
                return CliOutput.WriteError(e, asJson, signalled.Token);
            }
        });
    }

    /// <summary>Runs one engine call that yields a list and prints each item (one JSON object per line with --json).</summary>
    public static void SetEngineListAction<T>(this Command command, Option<bool> json,
        Func<ParseResult, IProgress<OperationProgress>, CancellationToken, Task<IReadOnlyList<T>>> engineCall)
        where T : notnull
    {
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var asJson = parseResult.GetValue(json);
            using var signalled = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, CliSignals.Token);
            try
            {
                foreach (var item in await engineCall(parseResult, CliOutput.CreateProgress(), signalled.Token).ConfigureAwait(false))
                {
                    CliOutput.WriteResult(item, asJson);
                }

                return 0;
            }
            catch (Exception e)
            {
                return CliOutput.WriteError(e, asJson, signalled.Token);
            }
        });
    }
}
