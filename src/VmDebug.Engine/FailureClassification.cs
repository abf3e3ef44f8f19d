namespace VmDebug.Engine;

/// <summary>
/// How a failure is named to the user: the same id, kind and message in both front ends, whatever threw it.
/// </summary>
/// <param name="ErrorId">Stable id, e.g. <c>QmpGreetingInvalid</c>, <c>OperationTimeout</c>.</param>
/// <param name="Kind">Family of causes (PowerShell's ErrorCategory, the CLI's exit code).</param>
/// <param name="Target">The object concerned, when known.</param>
/// <param name="Message">What to tell the user.</param>
/// <param name="Remedy">What to do about it, for each front end to spell; null when there is nothing to suggest.</param>
public sealed record FailureClassification(string ErrorId, ErrorKind Kind, object? Target, string Message, Remedy? Remedy)
{
    /// <summary>A stop the user asked for (Ctrl+C, a signal, Select-Object -First): front ends may stay silent.</summary>
    public bool IsUserStop => Kind == ErrorKind.OperationStopped;

    /// <summary>
    /// The one mapping of exceptions to user-facing failures. A cancellation is a stop only when the caller's own
    /// token asked for it (<paramref name="stopRequested"/>); any other cancellation, like a
    /// <see cref="TimeoutException"/>, is a timeout inside the engine.
    /// </summary>
    public static FailureClassification Of(Exception exception, bool stopRequested) => exception switch
    {
        VmDebugException e => new(e.ErrorId, e.Kind, e.Target, e.Message, e.Remedy),
        CancellationNoticeException notice when stopRequested =>
            new("DumpCancelled", ErrorKind.OperationStopped, notice.Target, "Cancelled. " + notice.Notice, null),
        OperationCanceledException when stopRequested => new("OperationStopped", ErrorKind.OperationStopped, null, "Cancelled.", null),
        OperationCanceledException or TimeoutException => new("OperationTimeout", ErrorKind.OperationTimeout, null, exception.Message, null),
        UnauthorizedAccessException => new("AccessDenied", ErrorKind.PermissionDenied, null, exception.Message, null),
        IOException => new("IOError", ErrorKind.WriteError, null, exception.Message, null),
        _ => new("UnexpectedError", ErrorKind.NotSpecified, null, exception.Message, null),
    };
}
