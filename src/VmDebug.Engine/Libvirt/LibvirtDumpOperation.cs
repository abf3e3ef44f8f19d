using System.Diagnostics;

namespace VmDebug.Engine.Libvirt;

/// <summary>
/// Guest memory dump through libvirt: virDomainCoreDumpWithFormat with VIR_DUMP_MEMORY_ONLY (QEMU's
/// dump-guest-memory) on a worker thread, progress from virDomainGetJobInfo polled on the caller's side.
/// The path is used as given: libvirt's daemon opens it (root, mode 0600 observed with libvirt 9.0).
/// </summary>
public static class LibvirtDumpOperation
{
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Connects to <paramref name="uri"/> (null: qemu:///system), finds the domain and dumps it.</summary>
    public static async Task<LibvirtMemoryDump> DumpAsync(string? uri, string domainName, string path, LibvirtDumpFormat format,
        IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = LibvirtConnection.Open(uri);
        using var domain = connection.LookupDomain(domainName);
        return await DumpAsync(domain, path, format, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Dumps <paramref name="domain"/>. On cancellation the job is aborted with virDomainAbortJob; when libvirt
    /// refuses (it cannot stop QEMU's dump-guest-memory), the dump runs to its end first, then
    /// <see cref="OperationCanceledException"/> is thrown and the caller removes the file.
    /// </summary>
    public static async Task<LibvirtMemoryDump> DumpAsync(LibvirtDomain domain, string path, LibvirtDumpFormat format,
        IProgress<OperationProgress>? progress, CancellationToken cancellationToken, TimeSpan? pollInterval = null)
    {
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentException.ThrowIfNullOrEmpty(path);
        cancellationToken.ThrowIfCancellationRequested();
        var poll = pollInterval ?? DefaultPollInterval;
        var activity = $"Dumping guest memory of {domain.Name} ({format})";
        var clock = Stopwatch.StartNew();

        var dump = Task.Factory.StartNew(() => domain.CoreDumpWithFormat(path, format, LibvirtDumpFlags.MemoryOnly),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        long guestRam = -1;
        var abortRequested = false;
        progress?.Report(new OperationProgress(activity, "Starting", 0));
        while (!dump.IsCompleted)
        {
            // After an abort request the token stays cancelled; poll at the normal pace instead of spinning.
            await Task.WhenAny(dump, Task.Delay(poll, abortRequested ? CancellationToken.None : cancellationToken)).ConfigureAwait(false);
            if (dump.IsCompleted)
            {
                break;
            }

            if (cancellationToken.IsCancellationRequested && !abortRequested)
            {
                abortRequested = true;
                try
                {
                    domain.AbortJob();
                    progress?.Report(new OperationProgress(activity, "Aborting"));
                }
                catch (LibvirtException e)
                {
                    progress?.Report(new OperationProgress(activity, $"Cannot abort, waiting for the dump to end: {e.LibvirtMessage}"));
                }
            }

            if (TryGetJobInfo(domain) is { } job && job.Progress is (var done, var total) && total > 0)
            {
                guestRam = (long)total;
                var seconds = clock.Elapsed.TotalSeconds;
                var percent = (int)Math.Clamp(done * 100 / total, 0, 100);
                progress?.Report(new OperationProgress(activity, abortRequested ? "Waiting for the dump to end" : "Writing",
                    percent, (long)done, (long)total, seconds > 0 ? done / seconds : -1));
            }
        }

        try
        {
            await dump.ConfigureAwait(false);
        }
        catch (LibvirtException e) when (abortRequested)
        {
            throw new OperationCanceledException($"The dump of {domain.Name} was aborted: {e.LibvirtMessage}", e, cancellationToken);
        }
        if (abortRequested)
        {
            throw new OperationCanceledException($"The dump of {domain.Name} was cancelled after libvirt finished writing it.", cancellationToken);
        }

        clock.Stop();
        var size = File.Exists(path) ? new FileInfo(path).Length : -1;
        progress?.Report(new OperationProgress(activity, "Done", 100, size, size, Completed: true));
        return new LibvirtMemoryDump(domain.Name, path, format, size, guestRam, clock.Elapsed);
    }

    private static LibvirtJobInfo? TryGetJobInfo(LibvirtDomain domain)
    {
        try { return domain.GetJobInfo(); }
        catch (LibvirtException) { return null; } // the job may end between polls; the dump's own result decides
    }
}
