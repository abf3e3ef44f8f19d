using System.Text.Json.Nodes;
using Microsoft.Win32.SafeHandles;

namespace VmDebug.Engine.Qmp;

// Typed wrappers for the few commands VmDebug uses (names and shapes from QEMU's qapi/*.json schema).
public sealed partial class QmpClient
{
    /// <summary><c>query-version</c>: the QEMU version of the running process.</summary>
    public async Task<QmpVersion> QueryVersionAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var result = await ExecuteObjectAsync("query-version", null, timeout, cancellationToken).ConfigureAwait(false);
        if (result["qemu"] is JsonObject qemu
            && QmpMessage.TryGetInt(qemu, "major", out var major) && QmpMessage.TryGetInt(qemu, "minor", out var minor) && QmpMessage.TryGetInt(qemu, "micro", out var micro))
        {
            var package = result["package"] is JsonValue p && p.TryGetValue(out string? text) ? text : "";
            return new QmpVersion(major, minor, micro, package);
        }

        throw UnexpectedResult("query-version", result);
    }

    /// <summary><c>query-status</c>: whether vCPUs run and QEMU's run state.</summary>
    public async Task<QmpStatus> QueryStatusAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var result = await ExecuteObjectAsync("query-status", null, timeout, cancellationToken).ConfigureAwait(false);
        if (result["running"] is JsonValue r && r.TryGetValue(out bool running)
            && result["status"] is JsonValue s && s.TryGetValue(out string? status))
        {
            return new QmpStatus(running, status);
        }

        throw UnexpectedResult("query-status", result);
    }

    /// <summary><c>stop</c>: pause all vCPUs.</summary>
    public Task StopAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        => ExecuteAsync("stop", null, timeout, cancellationToken);

    /// <summary><c>cont</c>: resume (or start a guest created with -S).</summary>
    public Task ContAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        => ExecuteAsync("cont", null, timeout, cancellationToken);

    /// <summary><c>query-dump-guest-memory-capability</c>: dump formats this QEMU binary supports, e.g. elf, kdump-zlib.</summary>
    public async Task<IReadOnlyList<string>> QueryDumpGuestMemoryCapabilityAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var result = await ExecuteObjectAsync("query-dump-guest-memory-capability", null, timeout, cancellationToken).ConfigureAwait(false);
        if (result["formats"] is not JsonArray formats)
        {
            throw UnexpectedResult("query-dump-guest-memory-capability", result);
        }

        var names = new List<string>(formats.Count);
        foreach (var format in formats)
        {
            if (format is not JsonValue v || !v.TryGetValue(out string? name))
            {
                throw UnexpectedResult("query-dump-guest-memory-capability", result);
            }

            names.Add(name);
        }

        return names;
    }

    /// <summary>
    /// <c>dump-guest-memory</c>. Without <see cref="DumpGuestMemoryRequest.Detach"/> the reply comes when the dump is
    /// written, so pass a timeout that fits the guest's RAM size.
    /// </summary>
    public Task DumpGuestMemoryAsync(DumpGuestMemoryRequest request, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.Protocol.StartsWith("file:", StringComparison.Ordinal) && !request.Protocol.StartsWith("fd:", StringComparison.Ordinal))
        {
            throw new ArgumentException($"The dump protocol must be 'file:PATH' or 'fd:NAME', not '{request.Protocol}'.", nameof(request));
        }

        if (request.Begin.HasValue != request.Length.HasValue)
        {
            throw new ArgumentException("Begin and Length must be given together.", nameof(request));
        }

        var arguments = new JsonObject
        {
            ["paging"] = request.Paging,
            ["protocol"] = request.Protocol,
        };
        if (request.Detach)
        {
            arguments["detach"] = true;
        }

        if (request.Format is not null)
        {
            arguments["format"] = request.Format;
        }

        if (request.Begin is long begin)
        {
            arguments["begin"] = begin;
            arguments["length"] = request.Length!.Value;
        }

        return ExecuteAsync("dump-guest-memory", arguments, timeout, cancellationToken);
    }

    /// <summary><c>query-dump</c>: progress of the current or last dump.</summary>
    public async Task<QmpDumpStatus> QueryDumpAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var result = await ExecuteObjectAsync("query-dump", null, timeout, cancellationToken).ConfigureAwait(false);
        if (result["status"] is JsonValue s && s.TryGetValue(out string? status)
            && QmpMessage.TryGetLong(result, "completed", out var completed) && QmpMessage.TryGetLong(result, "total", out var total))
        {
            var state = status switch
            {
                "none" => QmpDumpState.None,
                "active" => QmpDumpState.Active,
                "completed" => QmpDumpState.Completed,
                "failed" => QmpDumpState.Failed,
                _ => throw UnexpectedResult("query-dump", result),
            };
            return new QmpDumpStatus(state, completed, total);
        }

        throw UnexpectedResult("query-dump", result);
    }

    /// <summary>
    /// <c>getfd</c>: hands <paramref name="file"/> to QEMU under <paramref name="fdName"/> (SCM_RIGHTS on the same
    /// message as the command). QEMU gets its own duplicate; the caller still owns and closes <paramref name="file"/>.
    /// </summary>
    public async Task GetFdAsync(string fdName, SafeFileHandle file, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(fdName);
        ArgumentNullException.ThrowIfNull(file);
        if (file.IsInvalid || file.IsClosed)
        {
            throw new ArgumentException("The file handle is closed or invalid.", nameof(file));
        }

        // QEMU keeps only the descriptors of the latest message, so one fd-carrying command at a time.
        await _fdLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ExecuteCoreAsync("getfd", new JsonObject { ["fdname"] = fdName }, timeout, file, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _fdLock.Release();
        }
    }

    /// <summary><c>closefd</c>: closes a descriptor received with getfd and not yet consumed (e.g. by a dump).</summary>
    public Task CloseFdAsync(string fdName, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(fdName);
        return ExecuteAsync("closefd", new JsonObject { ["fdname"] = fdName }, timeout, cancellationToken);
    }

    private async Task<JsonObject> ExecuteObjectAsync(string command, JsonObject? arguments, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var result = await ExecuteAsync(command, arguments, timeout, cancellationToken).ConfigureAwait(false);
        return result as JsonObject ?? throw UnexpectedResult(command, result);
    }

    private QmpProtocolException UnexpectedResult(string command, JsonNode? result)
        => new(QmpProtocolFailure.UnexpectedReply,
            $"{SocketPath} returned an unexpected result for '{command}': {QmpMessage.Preview(result)}",
            SocketPath);
}
