using VmDebug.Engine.Debuginfod;

namespace VmDebug.Engine.Fleet;

/// <summary>
/// The archive's vmlinux cache, ARCHIVE/.build-id/&lt;id&gt;/vmlinux, filled from debuginfod once per build id. A miss
/// or an unreachable server is a warning in the crash, never a failed capture.
/// </summary>
internal sealed class VmlinuxCache : IDisposable
{
    private readonly DebuginfodClient _client;
    private readonly CrashArchive _archive;

    public VmlinuxCache(IReadOnlyList<Uri> servers, CrashArchive archive)
    {
        _client = new DebuginfodClient(servers);
        _archive = archive;
    }

    /// <summary>The vmlinux relative to the archive root, or null with a warning added.</summary>
    public async Task<string?> FetchAsync(string buildId, List<string> warnings, CancellationToken cancellationToken)
    {
        try
        {
            var path = await _client.FetchDebugInfoAsync(buildId, Path.Combine(_archive.Root, CrashArchive.BuildIdDirectory), cancellationToken)
                .ConfigureAwait(false);
            return Path.GetRelativePath(_archive.Root, path);
        }
        catch (DebuginfodException e)
        {
            warnings.Add($"No vmlinux for build id {buildId} from debuginfod ({string.Join(' ', _client.Servers)}): {e.Message}");
            return null;
        }
    }

    public void Dispose() => _client.Dispose();
}
