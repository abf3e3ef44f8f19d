namespace VmDebug.Engine;

/// <summary>
/// An IProgress that calls its handler inline on the reporting thread. Progress&lt;T&gt; posts to a captured
/// SynchronizationContext instead, which front-ends without one (cmdlets, the CLI) do not want.
/// </summary>
public sealed class CallbackProgress<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}
