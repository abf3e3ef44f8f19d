using VmDebug.Engine;

namespace VmDebug.Commands;

/// <summary>
/// Base of the cmdlets that change configuration: it binds the request (<see cref="CreateRequest"/>, on the pipeline
/// thread), plans the change (<see cref="Plan"/>, the one engine call), writes each planned edit as verbose, asks
/// ShouldProcess with the exact diff (what -WhatIf prints and -Confirm shows), then applies it and writes the result
/// after its warnings (the flow is <see cref="VmDebugCmdlet.ProcessPlannedChange{TResult}"/>).
/// </summary>
/// <typeparam name="TRequest">The engine's request record.</typeparam>
/// <typeparam name="TResult">The output object.</typeparam>
public abstract class PlannedChangeCmdlet<TRequest, TResult> : VmDebugCmdlet
    where TResult : class
{
    /// <summary>The request from the bound parameters; resolves paths, so it runs on the pipeline thread.</summary>
    protected abstract TRequest CreateRequest();

    /// <summary>The engine call that plans the change without writing anything.</summary>
    protected abstract PlannedChange<TResult> Plan(TRequest request);

    /// <summary>What a planning error names when the engine names nothing.</summary>
    protected abstract object? ErrorTarget(TRequest request);

    /// <summary>What an apply error names when the engine names nothing; the change's target unless overridden.</summary>
    protected virtual object? ApplyErrorTarget(TRequest request, PlannedChange<TResult> change) => change.Target;

    protected override void ProcessRecord()
    {
        var request = CreateRequest();
        ProcessPlannedChange(() => Plan(request), ErrorTarget(request), change => ApplyErrorTarget(request, change));
    }
}
