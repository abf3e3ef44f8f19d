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
            return await Task.Run(() => GuestKernelSession.OpenDump(path, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        if (target.CoreFile is { } core)
        {
            return await Task.Run(() => GuestKernelSession.OpenProcessCore(core, target.GuestMemoryLayout, cancellationToken), cancellationToken)
                .ConfigureAwait(false);
        }
        throw new NotImplementedException("live");
    }
}
