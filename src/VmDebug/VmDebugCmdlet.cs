using System.Collections.Concurrent;
using System.Management.Automation;
using VmDebug.Engine;

namespace VmDebug.Commands;

/// <summary>
/// Base of every VmDebug cmdlet. It owns cancellation (Ctrl+C → <see cref="StopProcessing"/> cancels the engine
/// call), runs engine work off the pipeline thread while draining its callbacks on it (WriteObject/WriteProgress
/// from another thread corrupts the pipeline), and maps engine exceptions to ErrorRecords in one place.
/// </summary>
public abstract class VmDebugCmdlet : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly BlockingCollection<Action> _pipelineQueue = new();
    private int _activityId;

    protected CancellationToken StopToken => _stopping.Token;

    protected override void StopProcessing() => _stopping.Cancel();

    public void Dispose()
    {
        _stopping.Dispose();
        _pipelineQueue.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// The file-system paths -Path (wildcards) or -LiteralPath name. Each one that names nothing (a missing path, a
    /// pattern without matches, another provider) is one non-terminating error, so the other inputs still run and
    /// -ErrorAction decides; the shared mechanism of every cmdlet that takes paths.
    /// </summary>
    protected IReadOnlyList<string> ResolveInputPaths(IEnumerable<string> paths, bool literal)
    {
        var resolved = new List<string>();
        foreach (var path in paths)
        {
            if (literal)
            {
                var full = GetUnresolvedProviderPathFromPSPath(path);
                if (File.Exists(full) || Directory.Exists(full))
                {
                    resolved.Add(full);
                }
                else
                {
                    WritePathNotFound(path, $"Cannot find path '{full}' because it does not exist.");
                }

                continue;
            }

            try
            {
                var matches = GetResolvedProviderPathFromPSPath(path, out var provider);
                if (provider.Name != "FileSystem")
                {
                    WriteError(new ErrorRecord(new ArgumentException($"'{path}' is a {provider.Name} path; give a file-system path."),
                        "PathNotFileSystem", ErrorCategory.InvalidArgument, path));
                }
                else if (matches.Count == 0)
                {
                    WritePathNotFound(path, $"No file matches '{path}'.");
                }
                else
                {
                    resolved.AddRange(matches);
                }
            }
            catch (SessionStateException e) // a missing item, drive or provider
            {
                WritePathNotFound(path, e.Message);
            }
        }

        return resolved;
    }

    private void WritePathNotFound(string path, string message) =>
        WriteError(new ErrorRecord(new ItemNotFoundException(message), "PathNotFound", ErrorCategory.ObjectNotFound, path));

    /// <summary>Queues work that must run on the pipeline thread (output, progress, verbose, warnings).</summary>
    protected void OnPipelineThread(Action action) => _pipelineQueue.Add(action);

    /// <summary>An IProgress that turns engine progress into throttled WriteProgress on the pipeline thread.</summary>
    protected IProgress<OperationProgress> CreateProgress()
    {
        var activityId = Interlocked.Increment(ref _activityId);
        return new ThrottledProgress(report => OnPipelineThread(() => WriteProgress(ToProgressRecord(activityId, report))));
    }

    /// <summary>Runs one engine call, pumping queued pipeline work until it ends; returns its result or writes its error.</summary>
    protected bool TryRunEngine<T>(Func<CancellationToken, Task<T>> engineCall, out T result, object? errorTarget = null)
    {
        var task = Task.Run(() => engineCall(StopToken));
        task.ContinueWith(_ => _pipelineQueue.Add(() => { }), TaskScheduler.Default);
        try
        {
            PumpUntil(task);
        }
        catch
        {
            // PipelineStoppedException from a queued Write call (Ctrl+C): the engine's cleanup (temporary files,
            // its QMP connection) ends before the cmdlet returns, and what goes on after it is said.
            _stopping.Cancel();
            Task.WaitAny(task);
            WriteCancellationNotice(task.Exception?.InnerException);
            throw;
        }

        try
        {
            result = task.GetAwaiter().GetResult();
            return true;
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            result = default!;
            WriteEngineError(e, errorTarget);
            return false;
        }
    }

    /// <summary>
    /// Streams an engine sequence, handing each item to <paramref name="onItem"/> on the pipeline thread as it arrives
    /// (WriteObject for results, WriteWarning or WriteVerbose for events). At most <see cref="MaxItemsInFlight"/> items
    /// wait for the pipeline thread, so a slow pipeline slows the engine instead of growing a queue. When the pipeline
    /// stops (Ctrl+C, Select-Object -First), the engine sequence is cancelled and has ended, its resources released,
    /// before this returns.
    /// </summary>
    protected void RunEngineStream<T>(Func<CancellationToken, IAsyncEnumerable<T>> engineStream, Action<T> onItem, object? errorTarget = null)
        where T : notnull
    {
        // Not disposed: queued callbacks may still release it after an early return.
        var inFlight = new SemaphoreSlim(MaxItemsInFlight);
        var task = Task.Run(async () =>
        {
            await foreach (var item in engineStream(StopToken).ConfigureAwait(false))
            {
                await inFlight.WaitAsync(StopToken).ConfigureAwait(false);
                OnPipelineThread(() =>
                {
                    inFlight.Release();
                    onItem(item);
                });
            }
        });
        task.ContinueWith(_ => _pipelineQueue.Add(() => { }), TaskScheduler.Default);
        try
        {
            PumpUntil(task);
        }
        catch
        {
            // PipelineStoppedException from a Write call, or any failure of the callback: end the engine's work first.
            _stopping.Cancel();
            Task.WaitAny(task);
            throw;
        }

        try
        {
            task.GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not PipelineStoppedException)
        {
            WriteEngineError(e, errorTarget);
        }
    }

    private const int MaxItemsInFlight = 64;

    private void PumpUntil(Task task)
    {
        while (!task.IsCompleted || _pipelineQueue.Count > 0)
        {
            if (_pipelineQueue.TryTake(out var action, Timeout.Infinite))
            {
                action();
            }
        }
    }

    /// <summary>
    /// After Ctrl+C the pipeline refuses WriteWarning, so the notice goes to the host's warning line (which a
    /// [powershell] instance also records in Streams.Warning).
    /// </summary>
    private void WriteCancellationNotice(Exception? exception)
    {
        if (exception is not CancellationNoticeException notice)
        {
            return;
        }

        if (Stopping)
        {
            Host.UI.WriteWarningLine(notice.Notice);
        }
        else
        {
            WriteWarning(notice.Notice);
        }
    }

    /// <summary>The one place engine exceptions become ErrorRecords (non-terminating, as WriteError writes them).</summary>
    protected void WriteEngineError(Exception exception, object? fallbackTarget)
    {
        WriteCancellationNotice(exception);
        var failure = FailureClassification.Of(exception, StopToken.IsCancellationRequested);
        if (failure.IsUserStop)
        {
            return;
        }

        WriteError(WithRemedy(new ErrorRecord(exception, failure.ErrorId, ToCategory(failure.Kind), failure.Target ?? fallbackTarget), failure));
    }

    /// <summary>The engine's remedy in PowerShell's spelling, shown after the message and kept as RecommendedAction.</summary>
    private static ErrorRecord WithRemedy(ErrorRecord record, FailureClassification failure)
    {
        if (failure.Remedy?.Render(PowerShellSpelling) is { } remedy)
        {
            record.ErrorDetails = new ErrorDetails($"{failure.Message} {remedy}") { RecommendedAction = remedy };
        }

        return record;
    }

    internal static string PowerShellSpelling(RemedyTerm term) => term switch
    {
        { Command: RemedyCommand.ConvertVmcore } => "Convert-Vmcore",
        { Command: RemedyCommand.EnableQemuCoreDump } => "Enable-QemuCoreDump",
        { Command: RemedyCommand.WatchGuestPanic } => "Watch-GuestPanic",
        { Parameter: { } parameter, Value: null } => $"-{parameter}",
        { Parameter: { } parameter, Value: var value } => $"-{parameter} {value}",
        _ => throw new ArgumentOutOfRangeException(nameof(term), term, null),
    };

    internal static ErrorCategory ToCategory(ErrorKind kind) =>
        Enum.TryParse<ErrorCategory>(kind.ToString(), out var category) ? category : ErrorCategory.NotSpecified;

    private static ProgressRecord ToProgressRecord(int activityId, OperationProgress report)
    {
        var status = report.Status;
        if (report.BytesDone >= 0 && report.BytesTotal > 0)
        {
            status += $" ({Units.FormatBytes(report.BytesDone)} of {Units.FormatBytes(report.BytesTotal)}";
            status += report.BytesPerSecond > 0 ? $", {Units.FormatBytes((long)report.BytesPerSecond)}/s)" : ")";
        }

        return new ProgressRecord(activityId, report.Activity, string.IsNullOrEmpty(status) ? "Working" : status)
        {
            PercentComplete = Math.Clamp(report.PercentComplete, -1, 100),
            RecordType = report.Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
        };
    }
}
