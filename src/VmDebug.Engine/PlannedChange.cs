namespace VmDebug.Engine;

/// <summary>
/// A state change computed before anything is written: the front ends show <see cref="Describe"/> for -WhatIf
/// (--what-if) and call <see cref="Apply"/> otherwise. Cmdlets run one through <c>PlannedChangeCmdlet</c>, the CLI
/// through <c>CliCommand.RunPlannedChange</c>. Disposing releases what planning opened (a libvirt connection).
/// </summary>
/// <typeparam name="TResult">The output object: the state as it is after <see cref="Apply"/>.</typeparam>
public abstract class PlannedChange<TResult> : IDisposable
    where TResult : class
{
    /// <summary>What changes (a file, a domain, a daemon), as ShouldProcess names it.</summary>
    public abstract string Target { get; }

    /// <summary>The action in words, without its target: "Change the panic configuration".</summary>
    public abstract string Description { get; }

    /// <summary>One line per planned edit, for verbose output.</summary>
    public abstract IReadOnlyList<string> Changes { get; }

    /// <summary>Anything would be written, defined or restarted.</summary>
    public abstract bool HasChanges { get; }

    /// <summary>The result as it would be after <see cref="Apply"/> (what --what-if --json prints).</summary>
    public abstract TResult Preview { get; }

    /// <summary>The exact unified diff (and any restart), or "no change": the -WhatIf text.</summary>
    public abstract string Describe();

    /// <summary>Makes the change and reads the result back.</summary>
    public abstract TResult Apply(CancellationToken cancellationToken);

    /// <summary>The warnings a result carries, which the front ends write before the result.</summary>
    public abstract IReadOnlyList<string> WarningsOf(TResult result);

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}
