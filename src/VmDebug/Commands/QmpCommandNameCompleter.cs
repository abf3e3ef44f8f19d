using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Management.Automation.Runspaces;
using VmDebug.Engine.Qmp;

namespace VmDebug.Commands;

/// <summary>Tab completion of Invoke-QmpCommand -Command: the names from query-commands of the guest at -QmpSocket.</summary>
public sealed class QmpCommandNameCompleter : IArgumentCompleter
{
    // QEMU serves one QMP client at a time: a busy monitor must not hang the prompt.
    private static readonly TimeSpan QueryLimit = TimeSpan.FromSeconds(3);

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        if (fakeBoundParameters?["QmpSocket"] is not string socket || socket.Length == 0)
        {
            return [];
        }

        IReadOnlyList<string> names;
        try
        {
            if (!Path.IsPathRooted(socket) && Runspace.DefaultRunspace?.SessionStateProxy.Path.CurrentFileSystemLocation.ProviderPath is { } location)
            {
                socket = Path.Combine(location, socket);
            }

            using var limit = new CancellationTokenSource(QueryLimit);
            names = QmpRawCommand.ListCommandNamesAsync(socket, limit.Token).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is VmDebug.Engine.VmDebugException or OperationCanceledException or IOException or PSInvalidOperationException)
        {
            return [];
        }

        var prefix = wordToComplete.Trim('\'', '"');
        return names.Where(name => name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Select(name => new CompletionResult(name, name, CompletionResultType.ParameterValue, name));
    }
}
