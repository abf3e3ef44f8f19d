using System.CommandLine;
using System.Runtime.InteropServices;

namespace VmDebug.Cli;

/// <summary>
/// SIGHUP (terminal or ssh session closed) and SIGQUIT cancel the running command like SIGINT and SIGTERM, which
/// System.CommandLine turns into cancellation: the engine then resumes what it paused and removes what it created
/// before exiting. A run that only reads files and writes stdout has nothing to put right, so it keeps the signals'
/// default action and ends at once, as makedumpfile does: setting the handlers up (System.Native's signal thread and
/// pipe, and eight sigactions) was a twelfth of a `vmdebug log --input` run. SIGPIPE needs nothing: .NET ignores it,
/// so a closed stdout is an ordinary write error.
/// </summary>
public static class CliSignals
{
    private static readonly List<PosixSignalRegistration> Registrations = [];
    // A process builds its commands once, so plain references do: no weak table, and its GC handles, at start-up.
    private static readonly Dictionary<Command, Func<ParseResult, bool>> ReadOnlyRuns = new(ReferenceEqualityComparer.Instance);
    private static CancellationTokenSource? _cancelled;

    /// <summary>Cancelled by SIGHUP or SIGQUIT once <see cref="Install"/> has run; before that nothing cancels it.</summary>
    public static CancellationToken Token => _cancelled?.Token ?? CancellationToken.None;

    /// <summary>Declares when a run of <paramref name="command"/> only reads: its signals then keep their default action.</summary>
    public static void OnlyReadsWhen(Command command, Func<ParseResult, bool> onlyReads) => ReadOnlyRuns[command] = onlyReads;

    /// <summary>Whether the parsed run may leave something to put right if a signal ends it: every run that has not declared otherwise.</summary>
    public static bool AreNeededBy(ParseResult parse) =>
        !(ReadOnlyRuns.TryGetValue(parse.CommandResult.Command, out var onlyReads) && onlyReads(parse));

    public static void Install()
    {
        var cancelled = _cancelled = new CancellationTokenSource();
        foreach (var signal in new[] { PosixSignal.SIGHUP, PosixSignal.SIGQUIT })
        {
            Registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true; // keep running until the engine has cleaned up
                cancelled.Cancel();
            }));
        }
    }
}
