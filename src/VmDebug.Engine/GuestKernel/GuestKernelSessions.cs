namespace VmDebug.Engine.GuestKernel;

/// <summary>Opens a <see cref="GuestKernelSession"/> for any <see cref="GuestKernelTarget"/>.</summary>
public static class GuestKernelSessions
{
    public static async Task<GuestKernelSession> OpenAsync(GuestKernelTarget target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        target.Validate();
        if (target.Path is { } path)
        {
            return GuestKernelSession.OpenDump(path, cancellationToken); // headers only: no thread-pool hop (see RunAsync)
        }
        if (target.CoreFile is { } core)
        {
            return await Task.Run(() => GuestKernelSession.OpenProcessCore(core, target.GuestMemoryLayout, cancellationToken), cancellationToken)
                .ConfigureAwait(false);
        }
        if (target.QmpSocket is { } socket)
        {
            return await QmpPhysicalMemory.OpenSessionAsync(socket, target.Pause, cancellationToken).ConfigureAwait(false);
        }
        return await LibvirtPhysicalMemory.OpenSessionAsync(target.Domain!, target.ConnectionUri, target.Pause, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs <paramref name="work"/> on an open session: inline on a file (a dump or an extracted process core, a few
    /// page reads), on the thread pool for a live guest, whose reads block on QEMU or libvirt. Starting a thread-pool
    /// thread was a tenth of a `vmdebug log` run.
    /// </summary>
    public static Task<T> RunAsync<T>(GuestKernelSession session, Func<T> work, CancellationToken cancellationToken) =>
        session.IsLive ? Task.Run(work, cancellationToken) : Task.FromResult(work());
}
