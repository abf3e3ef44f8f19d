using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using VmDebug.Engine.Libvirt;

namespace VmDebug.Commands;

/// <summary>Tab completion of -Domain: the domains of the libvirt daemon named by -ConnectionUri (or qemu:///system).</summary>
public sealed class LibvirtDomainCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var uri = fakeBoundParameters?["ConnectionUri"] as string;
        return DomainNames.Complete(uri, wordToComplete.Trim('\'', '"'))
            .Select(name => new CompletionResult(name.Contains(' ') ? $"'{name.Replace("'", "''")}'" : name, name, CompletionResultType.ParameterValue, name));
    }
}
