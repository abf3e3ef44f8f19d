using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using VmDebug.Engine.Files;

namespace VmDebug.Engine.Debuginfod;

/// <summary>
/// Fetches a build id's debug information from debuginfod servers (web API: <c>GET /buildid/ID/debuginfo</c>,
/// elfutils doc/debuginfod.8) into a cache laid out as <c>CACHE/ID/vmlinux</c>, once per build id.
/// Servers are tried in turn; the file is streamed into a temporary beside its final name, checked (size cap,
/// ELF build-id note equal to the id asked for) and only then renamed into place.
/// </summary>
public sealed class DebuginfodClient : IDisposable
{
    /// <summary>Longest build id accepted, in hex digits (64 bytes; GNU ld writes 20, some linkers 16 or 32).</summary>
    public const int MaxBuildIdHexDigits = 128;

    /// <summary>Name of the fetched file inside <c>CACHE/ID/</c>.</summary>
    public const string FileName = "vmlinux";

    private readonly HttpClient _http;
    private readonly ConcurrentDictionary<string, Task<string>> _inFlight = new(StringComparer.Ordinal);

    public DebuginfodClient(IReadOnlyList<Uri> servers, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(servers);
        foreach (var server in servers)
        {
            if (server is null || !server.IsAbsoluteUri || (server.Scheme != Uri.UriSchemeHttp && server.Scheme != Uri.UriSchemeHttps))
            {
                throw new ArgumentException($"Debuginfod server '{server}' is not an absolute http or https URL.", nameof(servers));
            }
        }
        Servers = servers.ToArray();
        // Without a handler of the caller's, connecting must not wait for ever on a server that drops packets.
        _http = new HttpClient(handler ?? new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(15) }, disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd($"vmdebug/{typeof(DebuginfodClient).Assembly.GetName().Version}");
    }

    public IReadOnlyList<Uri> Servers { get; }

    /// <summary>Largest file accepted (a 6.x distribution vmlinux with DWARF is about 600 MB).</summary>
    public long MaxDownloadBytes { get; init; } = 4L << 30;

    /// <summary>How long a server may take to start answering (a server unpacking a .deb on first request is slow).</summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a download may go without a single byte arriving.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The servers named by DEBUGINFOD_URLS, which elfutils reads as URLs separated by spaces; empty when unset.
    /// </summary>
    /// <exception cref="DebuginfodException">DebuginfodUrlInvalid: an entry is not an absolute http(s) URL.</exception>
    public static IReadOnlyList<Uri> ServersFromEnvironment() =>
        ParseServerList(Environment.GetEnvironmentVariable("DEBUGINFOD_URLS"));

    internal static IReadOnlyList<Uri> ParseServerList(string? value) =>
        [.. (value ?? "").Split([' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries).Select(entry => ParseServer(entry, "DEBUGINFOD_URLS entry"))];

    /// <summary>A debuginfod server as a user gives it (--debuginfod, -Debuginfod): an absolute http or https URL.</summary>
    /// <exception cref="VmDebugException">DebuginfodUrlInvalid (InvalidArgument), naming the text and what is wrong with it.</exception>
    public static Uri ParseServer(string text, string? what = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var reason = !Uri.TryCreate(text, UriKind.Absolute, out var uri) ? "it is not an absolute URL"
            : uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps ? $"its scheme is {uri.Scheme}, not http or https"
            : uri.Query.Length > 0 || uri.Fragment.Length > 0 ? "it has a query or fragment, where debuginfod appends /buildid/ID/debuginfo"
            : null;
        return reason is null ? uri! : throw new VmDebugException("DebuginfodUrlInvalid", ErrorKind.InvalidArgument,
            $"{(what is null ? "" : what + " ")}'{KmsgText.EscapeForDisplay(text)}' is not a debuginfod server URL: {reason}. " +
            "Give an absolute http or https URL such as http://localhost:8002.", text);
    }

    /// <summary>
    /// The path of <c>CACHE/ID/vmlinux</c>, fetched from the first server that has it unless already there.
    /// Concurrent calls for one build id share one download, which runs under the first caller's token: when that
    /// caller cancels, the others see the cancellation too and the next call starts afresh.
    /// </summary>
    public async Task<string> FetchDebugInfoAsync(string buildId, string cacheDirectory, CancellationToken cancellationToken)
    {
        var id = NormalizeBuildId(buildId);
        ArgumentException.ThrowIfNullOrEmpty(cacheDirectory);
        var directory = Path.Combine(Path.GetFullPath(cacheDirectory), id);
        var target = Path.Combine(directory, FileName);
        if (CachedFile(target, id) is { } cached)
        {
            return cached;
        }

        var download = _inFlight.GetOrAdd(target, _ => FetchAndForgetAsync(id, directory, target, cancellationToken));
        return await download.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _http.Dispose();

    /// <summary>Lowercase hex; refuses anything that is not an even number of hex digits within the bound.</summary>
    internal static string NormalizeBuildId(string? buildId)
    {
        if (string.IsNullOrEmpty(buildId) || buildId.Length > MaxBuildIdHexDigits || buildId.Length % 2 != 0 || !buildId.All(Uri.IsHexDigit))
        {
            throw new DebuginfodException("DebuginfodBuildIdInvalid", ErrorKind.InvalidArgument,
                $"Build id '{KmsgText.EscapeForDisplay(buildId ?? "")}' is not an even number of hex digits (2 to {MaxBuildIdHexDigits}).",
                buildId ?? "");
        }

        return buildId.ToLowerInvariant();
    }

    private async Task<string> FetchAndForgetAsync(string id, string directory, string target, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Yield(); // run outside GetOrAdd's factory
            return await FetchAsync(id, directory, target, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _inFlight.TryRemove(target, out _);
        }
    }

    private async Task<string> FetchAsync(string id, string directory, string target, CancellationToken cancellationToken)
    {
        if (Servers.Count == 0)
        {
            throw new DebuginfodException("DebuginfodNoServers", ErrorKind.InvalidArgument,
                $"No debuginfod server to ask for build id {id}: give a URL or set DEBUGINFOD_URLS.", id);
        }

        PrepareDirectory(directory, id);
        if (CachedFile(target, id) is { } cached)
        {
            return cached; // another process finished it meanwhile
        }

        var failures = new List<DebuginfodException>();
        foreach (var server in Servers)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                await DownloadAsync(server, id, directory, target, cancellationToken).ConfigureAwait(false);
                return target;
            }
            catch (DebuginfodException e)
            {
                failures.Add(e);
            }
        }
        throw Combine(id, failures);
    }

    private async Task DownloadAsync(Uri server, string id, string directory, string target, CancellationToken cancellationToken)
    {
        var url = new Uri(server.AbsoluteUri.TrimEnd('/') + $"/buildid/{id}/debuginfo");
        using var response = await SendAsync(server, url, id, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new DebuginfodException("DebuginfodNotFound", ErrorKind.ObjectNotFound,
                $"Debuginfod server {server} has no debug information for build id {id} (404).", id, server);
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new DebuginfodException("DebuginfodServerError", ErrorKind.ProtocolError,
                $"Debuginfod server {server} answered {(int)response.StatusCode} {KmsgText.EscapeForDisplay(response.ReasonPhrase ?? "")} for build id {id}.",
                id, server);
        }

        if (response.Content.Headers.ContentLength is long announced && announced > MaxDownloadBytes)
        {
            throw TooLarge(server, id, $"announces {announced} bytes");
        }

        var temporary = Path.Combine(directory, $".{FileName}.{Convert.ToHexString(RandomNumberGenerator.GetBytes(6)).ToLowerInvariant()}.partial");
        using (var handle = UnixFile.Open(temporary, UnixFile.ORdWr | UnixFile.OCreat | UnixFile.OExcl | UnixFile.ONoFollow, 0x1a4 /* 0644 */, out var errno))
        {
            if (handle.IsInvalid)
            {
                throw CacheFault(id, directory, $"cannot create a temporary there: {UnixFile.ErrorText(errno)}");
            }

            using var file = new FileStream(handle, FileAccess.ReadWrite);
            try
            {
                await CopyBoundedAsync(response, file, server, id, cancellationToken).ConfigureAwait(false);
                var found = ReadBuildId(file, server, id);
                if (found != id)
                {
                    throw new DebuginfodException("DebuginfodBuildIdMismatch", ErrorKind.InvalidData,
                        found is null
                            ? $"Debuginfod server {server} sent a file without a build-id note for build id {id}."
                            : $"Debuginfod server {server} sent a file whose build id is {found}, not {id}.", id, server);
                }

                file.Flush(flushToDisk: true);
            }
            catch
            {
                UnixFile.Unlink(temporary);
                throw;
            }
        }
        var renamed = UnixFile.Rename(temporary, target);
        if (renamed != 0)
        {
            UnixFile.Unlink(temporary);
            throw CacheFault(id, target, $"cannot rename the download into place: {UnixFile.ErrorText(renamed)}");
        }
        UnixFile.SyncDirectory(directory);
    }

    private async Task<HttpResponseMessage> SendAsync(Uri server, Uri url, string id, CancellationToken cancellationToken)
    {
        using var headers = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        headers.CancelAfter(ResponseTimeout);
        try
        {
            return await _http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, headers.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DebuginfodException("DebuginfodUnreachable", ErrorKind.OperationTimeout,
                $"Debuginfod server {server} did not answer within {ResponseTimeout.TotalSeconds:0} s for build id {id}.", id, server);
        }
        catch (HttpRequestException e)
        {
            var reason = e.InnerException is SocketException s ? s.Message : e.Message;
            throw new DebuginfodException("DebuginfodUnreachable", ErrorKind.ConnectionError,
                $"Debuginfod server {server} is unreachable for build id {id}: {reason}", id, server, e);
        }
    }

    private async Task CopyBoundedAsync(HttpResponseMessage response, FileStream file, Uri server, string id, CancellationToken cancellationToken)
    {
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new byte[1 << 20];
        long total = 0;
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            while (true)
            {
                stall.CancelAfter(StallTimeout);
                var read = await body.ReadAsync(buffer, stall.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                total += read;
                if (total > MaxDownloadBytes)
                {
                    throw TooLarge(server, id, "sent more");
                }

                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DebuginfodException("DebuginfodUnreachable", ErrorKind.OperationTimeout,
                $"Debuginfod server {server} stopped sending build id {id} after {total} bytes (nothing for {StallTimeout.TotalSeconds:0} s).",
                id, server);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            throw new DebuginfodException("DebuginfodUnreachable", ErrorKind.ConnectionError,
                $"Debuginfod server {server} broke off build id {id} after {total} bytes: {e.Message}", id, server, e);
        }
        if (response.Content.Headers.ContentLength is long expected && expected != total)
        {
            throw new DebuginfodException("DebuginfodUnreachable", ErrorKind.ConnectionError,
                $"Debuginfod server {server} sent {total} of the {expected} bytes of build id {id}.", id, server);
        }
    }

    private static string? ReadBuildId(FileStream file, Uri server, string id)
    {
        try
        {
            return ElfBuildId.Read(file);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            throw new DebuginfodException("DebuginfodFileInvalid", ErrorKind.InvalidData,
                $"Debuginfod server {server} sent a file for build id {id} that is unusable: {e.Message}.", id, server, e);
        }
    }

    /// <summary>The cached file when it is there: a regular file, reached without a symbolic link.</summary>
    private static string? CachedFile(string target, string id)
    {
        var status = UnixFile.LStat(target);
        if (status is null)
        {
            return null;
        }

        if (!status.Value.IsRegular)
        {
            throw CacheFault(id, target, $"it is a {status.Value.TypeName}, not a regular file");
        }

        return target;
    }

    private static void PrepareDirectory(string directory, string id)
    {
        var parent = Path.GetDirectoryName(directory)!;
        Directory.CreateDirectory(parent);
        var made = UnixFile.MakeDirectory(directory, 0x1ed /* 0755 */);
        if (made != 0 && made != UnixFile.EExist)
        {
            throw CacheFault(id, directory, UnixFile.ErrorText(made));
        }

        var status = UnixFile.LStat(directory);
        if (status is not { IsDirectory: true })
        {
            throw CacheFault(id, directory, status is null ? "it vanished" : $"it is a {status.Value.TypeName}, not a directory");
        }
    }

    private static DebuginfodException CacheFault(string id, string path, string reason) =>
        new("DebuginfodCacheUnusable", ErrorKind.WriteError, $"Debug-information cache entry '{path}' for build id {id} is unusable: {reason}.", id);

    private DebuginfodException TooLarge(Uri server, string id, string what) =>
        new("DebuginfodTooLarge", ErrorKind.LimitsExceeded,
            $"Debuginfod server {server} {what} than the {MaxDownloadBytes} bytes allowed for build id {id}.", id, server);

    /// <summary>
    /// One error for all servers: a server's bad answer outranks "not found", which outranks "unreachable", since it
    /// says most about what to fix; the message lists every server's outcome.
    /// </summary>
    private static DebuginfodException Combine(string id, List<DebuginfodException> failures)
    {
        if (failures.Count == 1)
        {
            return failures[0];
        }

        static int Rank(DebuginfodException e) => e.ErrorId switch
        {
            "DebuginfodUnreachable" => 0,
            "DebuginfodNotFound" => 1,
            _ => 2,
        };
        var chosen = failures.OrderByDescending(Rank).First();
        var message = $"No debuginfod server gave build id {id}: " + string.Join(" ", failures.Select(f => f.Message));
        return new DebuginfodException(chosen.ErrorId, chosen.Kind, message, id, chosen.Server, chosen);
    }
}
