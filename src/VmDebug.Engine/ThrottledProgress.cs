namespace VmDebug.Engine;

/// <summary>
/// Passes on at most one progress report per <see cref="Interval"/> (and always the final one), so a front end
/// redraws its progress bar at a rate people can read, whatever rate the engine reports at.
/// </summary>
public sealed class ThrottledProgress(Action<OperationProgress> handler) : IProgress<OperationProgress>
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    private readonly object _gate = new();
    private long _lastReportMs = long.MinValue / 2;

    public void Report(OperationProgress value)
    {
        lock (_gate)
        {
            var now = Environment.TickCount64;
            if (!value.Completed && now - _lastReportMs < (long)Interval.TotalMilliseconds)
            {
                return;
            }

            _lastReportMs = now;
            handler(value);
        }
    }
}
