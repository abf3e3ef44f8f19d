namespace VmDebug.Engine;

/// <summary>
/// A cancellation after which something the user should know about goes on: for example QEMU, which cannot stop a
/// dump it has begun, keeps the guest paused until its write ends. Front-ends show <see cref="Notice"/> as a warning.
/// </summary>
public sealed class CancellationNoticeException : OperationCanceledException
{
    public CancellationNoticeException(string notice, object? target, CancellationToken token, Exception? inner = null)
        : base(notice, inner, token)
    {
        Notice = notice;
        Target = target;
    }

    public string Notice { get; }

    /// <summary>The object concerned (a QMP socket).</summary>
    public object? Target { get; }
}
