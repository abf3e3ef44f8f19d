using VmDebug.Engine.GuestKernel;

namespace VmDebug.Engine.KernelLog;

/// <summary>Get-GuestKernelLog / vmdebug log: opens the target, reads its printk ring, closes it.</summary>
public static class GuestKernelLogReader
{
    public static async Task<GuestKernelLog> ReadAsync(GuestKernelTarget target, CancellationToken cancellationToken)
    {
        using var session = await GuestKernelSessions.OpenAsync(target, cancellationToken).ConfigureAwait(false);
        return await GuestKernelSessions.RunAsync(session, () => GuestKernelLog.Read(session), cancellationToken).ConfigureAwait(false);
    }
}
