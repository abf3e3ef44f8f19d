using System.Diagnostics;

namespace VmDebug.Engine.Vmcore;

/// <summary>
/// Turns bytes done into progress reports (percent, rate) for a page writer, through the engine's one throttle
/// (<see cref="ThrottledProgress"/>): a writer reports every batch, the caller sees a few reports a second and the last.
/// </summary>
internal sealed class ProgressReporter(IProgress<OperationProgress>? progress, string activity, long totalBytes)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ThrottledProgress? _throttle = progress is null ? null : new ThrottledProgress(progress.Report);

    public void Report(string status, long doneBytes) => _throttle?.Report(Make(status, doneBytes, completed: false));

    public void Complete(string status, long doneBytes) => _throttle?.Report(Make(status, doneBytes, completed: true));

    private OperationProgress Make(string status, long doneBytes, bool completed)
    {
        var seconds = _clock.Elapsed.TotalSeconds;
        var percent = completed ? 100 : totalBytes > 0 ? (int)Math.Min(99, doneBytes * 100 / totalBytes) : -1;
        return new OperationProgress(activity, status, percent, doneBytes, totalBytes, seconds > 0 ? doneBytes / seconds : -1, completed);
    }
}
