using System.Runtime.InteropServices;

namespace VmDebug.Cli;

/// <summary>
/// SIGHUP (terminal or ssh session closed) and SIGQUIT cancel the running command like SIGINT and SIGTERM, which
/// System.CommandLine already turns into cancellation: the engine then removes what it created before exiting.
/// SIGPIPE needs nothing: .NET ignores it, so a closed stdout is an ordinary write error.
/// </summary>
public static class CliSignals
{
    private static readonly CancellationTokenSource Cancelled = new();
    private static readonly List<PosixSignalRegistration> Registrations = [];

    public static CancellationToken Token => Cancelled.Token;

    public static void Install()
    {
        foreach (var signal in new[] { PosixSignal.SIGHUP, PosixSignal.SIGQUIT })
        {
            Registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true; // keep running until the engine has cleaned up
                Cancelled.Cancel();
            }));
        }
    }
}
