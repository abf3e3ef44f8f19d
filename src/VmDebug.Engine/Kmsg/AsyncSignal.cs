namespace VmDebug.Engine.Kmsg;

/// <summary>
/// Wakes one waiter. The waiter calls <see cref="Reset"/> before looking for work and <see cref="WaitAsync"/>
/// when it found none, so a <see cref="Set"/> between the two is never lost.
/// </summary>
internal sealed class AsyncSignal
{
    private TaskCompletionSource _source = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Set() => Volatile.Read(ref _source).TrySetResult();

    public void Reset()
    {
        if (Volatile.Read(ref _source).Task.IsCompleted)
        {
            Volatile.Write(ref _source, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        }
    }

    public Task WaitAsync(CancellationToken cancellationToken) => Volatile.Read(ref _source).Task.WaitAsync(cancellationToken);
}
