using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace VmDebug.Engine.ProcessCore;

/// <summary>Where Get-QemuCoreDump looks.</summary>
public sealed record QemuCoreDumpQuery
{
    /// <summary>Core files or directories to examine; directories are listed (recursively with <see cref="Recurse"/>).</summary>
    public IReadOnlyList<string> Paths { get; init; } = [];

    public bool Recurse { get; init; }

    /// <summary>Also list systemd-coredump's QEMU entries when coredumpctl is installed.</summary>
    public bool IncludeSystemdCoredump { get; init; } = true;
}

/// <summary>One entry of `coredumpctl --json=short list`.</summary>
internal sealed record CoredumpctlEntry(DateTimeOffset? Time, int? Pid, int? Signal, string? CoreFileState, string? Executable, long? Size);

/// <summary>Get-QemuCoreDump / vmdebug cores: QEMU process cores in files and in systemd-coredump, with what they hold.</summary>
public static class QemuCoreDumpFinder
{
    private const int MaxFiles = 100_000;
    private const int MaxDepth = 16;
    private const string SystemdCoredumpDirectory = "/var/lib/systemd/coredump";

    public static async Task<IReadOnlyList<VmDebug.QemuProcessCore>> FindAsync(QemuCoreDumpQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var cores = new List<VmDebug.QemuProcessCore>();
        foreach (var path in query.Paths)
        {
            var full = Path.GetFullPath(path);
            if (File.Exists(full))
            {
                if (Inspect(full, VmDebug.QemuCoreSource.File) is { } core)
                {
                    cores.Add(core);
                }
            }
            else if (Directory.Exists(full))
            {
                var options = new EnumerationOptions
                {
                    RecurseSubdirectories = query.Recurse,
                    MaxRecursionDepth = MaxDepth,
                    IgnoreInaccessible = true,
                    AttributesToSkip = FileAttributes.ReparsePoint,
                };
                var examined = 0;
                foreach (var file in Directory.EnumerateFiles(full, "*", options))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (++examined > MaxFiles)
                    {
                        break;
                    }
                    if (Inspect(file, VmDebug.QemuCoreSource.File) is { } core)
                    {
                        cores.Add(core);
                    }
                }
            }
            else
            {
                throw new VmDebugException("CorePathNotFound", ErrorKind.ObjectNotFound, $"'{full}' is neither a core file nor a directory.", full);
            }
        }
        if (query.IncludeSystemdCoredump)
        {
            cores.AddRange(await ListSystemdCoredumpAsync(cancellationToken).ConfigureAwait(false));
        }
        return cores.OrderBy(c => c.Time ?? DateTimeOffset.MinValue).ToList();
    }

    /// <summary>A QEMU process core's facts, or null when the file is not a QEMU process core.</summary>
    internal static VmDebug.QemuProcessCore? Inspect(string path, VmDebug.QemuCoreSource source, CoredumpctlEntry? entry = null)
    {
        if (!LooksLikeElfCore(path))
        {
            return null;
        }
        ProcessCoreFile core;
        try
        {
            core = ProcessCoreFile.Open(path);
        }
        catch (VmDebugException)
        {
            return null;
        }
        using (core)
        {
            if (!QemuCoreAnalysis.IsQemu(core))
            {
                return null;
            }
            var time = entry?.Time ?? new DateTimeOffset(File.GetLastWriteTimeUtc(path));
            var commandLine = core.Arguments is { } args ? JoinCommandLine(args) : core.PsArgs;
            var parsed = core.Arguments is { } a ? QemuCommandLine.Parse(a) : null;
            string? problem = null;
            bool? includesRam = null;
            if (core.File.Length < core.ExpectedLength)
            {
                problem = $"truncated: {core.File.Length} of {core.ExpectedLength} bytes";
            }
            else
            {
                try
                {
                    var analysis = QemuCoreAnalysis.Analyze(core, null);
                    includesRam = analysis.IncludesGuestRam;
                    if (!analysis.IncludesGuestRam)
                    {
                        problem = "no guest RAM (dump-guest-core=off)";
                    }
                }
                catch (ProcessCoreException e)
                {
                    problem = $"{e.ErrorId}: {e.Message[(path.Length + 2)..]}";
                }
            }
            return new VmDebug.QemuProcessCore
            {
                Path = path,
                Pid = entry?.Pid ?? core.Pid,
                Time = time,
                Signal = entry?.Signal ?? core.Signal,
                CommandLine = commandLine,
                MachineType = parsed is null ? null : parsed.MachineType ?? "pc",
                GuestRamBytes = parsed?.RamBytes,
                IncludesGuestRam = includesRam,
                Source = source,
                Problem = problem,
            };
        }
    }

    private static bool LooksLikeElfCore(string path)
    {
        try
        {
            // Regular files only, opened without blocking: core directories are often writable by the QEMU user.
            using var handle = Interop.ReadOnlyFile.TryOpenRegular(path);
            if (handle is null)
            {
                return false;
            }
            Span<byte> head = stackalloc byte[18];
            var n = RandomAccess.Read(handle, head, 0);
            // ELF, 64-bit, little-endian, e_type ET_CORE (4).
            return n == head.Length && head.StartsWith("\u007fELF"u8) && head[4] == 2 && head[5] == 1 && head[16] == 4 && head[17] == 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>argv as a shell would need it typed: arguments with spaces or quotes single-quoted.</summary>
    internal static string JoinCommandLine(IEnumerable<string> arguments) =>
        string.Join(' ', arguments.Select(a => a.Length > 0 && a.All(c => char.IsAsciiLetterOrDigit(c) || "-_=,./:@+%".Contains(c))
            ? a
            : "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'"));

    private static async Task<IReadOnlyList<VmDebug.QemuProcessCore>> ListSystemdCoredumpAsync(CancellationToken cancellationToken)
    {
        var coredumpctl = FindOnPath("coredumpctl");
        if (coredumpctl is null)
        {
            return [];
        }
        var start = new ProcessStartInfo(coredumpctl)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--json=short", "--no-pager", "list" })
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        var text = await stdout.ConfigureAwait(false);
        var error = await stderr.ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            // "No coredumps found." exits non-zero with nothing on stdout.
            if (string.IsNullOrWhiteSpace(text))
            {
                return [];
            }
            throw new VmDebugException("CoredumpctlFailed", ErrorKind.InvalidResult, $"coredumpctl list failed ({process.ExitCode}): {error.Trim()}", coredumpctl);
        }
        var cores = new List<VmDebug.QemuProcessCore>();
        foreach (var entry in ParseCoredumpctlJson(text).Where(e => IsQemuExecutable(e.Executable)))
        {
            cores.Add(FromCoredumpctl(entry, SystemdCoredumpDirectory));
        }
        return cores;
    }

    internal static VmDebug.QemuProcessCore FromCoredumpctl(CoredumpctlEntry entry, string storageDirectory)
    {
        var stored = entry.CoreFileState == "present" ? FindStoredCore(entry, storageDirectory) : null;
        if (stored is not null && Inspect(stored, VmDebug.QemuCoreSource.SystemdCoredump, entry) is { } inspected)
        {
            return inspected;
        }
        var compressed = stored is not null && (stored.EndsWith(".zst", StringComparison.Ordinal) || stored.EndsWith(".xz", StringComparison.Ordinal)
            || stored.EndsWith(".lz4", StringComparison.Ordinal));
        return new VmDebug.QemuProcessCore
        {
            Path = stored,
            Pid = entry.Pid,
            Time = entry.Time,
            Signal = entry.Signal,
            Source = VmDebug.QemuCoreSource.SystemdCoredump,
            Problem = compressed
                ? $"compressed by systemd-coredump: extract it with 'coredumpctl dump {entry.Pid} --output FILE', then use that file"
                : $"the core is {entry.CoreFileState ?? "unknown"} in systemd-coredump's storage",
        };
    }

    /// <summary>systemd-coredump names stored cores core.COMM.UID.BOOTID.PID.USEC[.zst|.xz|.lz4] (src/coredump/coredump.c).</summary>
    private static string? FindStoredCore(CoredumpctlEntry entry, string storageDirectory)
    {
        if (entry.Pid is not { } pid || entry.Time is not { } time || !Directory.Exists(storageDirectory))
        {
            return null;
        }
        var usec = (time - DateTimeOffset.UnixEpoch).Ticks / 10;
        var pattern = string.Create(CultureInfo.InvariantCulture, $"core.*.{pid}.{usec}*");
        return Directory.EnumerateFiles(storageDirectory, pattern).FirstOrDefault();
    }

    internal static bool IsQemuExecutable(string? executable)
    {
        var name = Path.GetFileName(executable ?? "");
        return name.StartsWith("qemu-system-", StringComparison.Ordinal) || name is "qemu-kvm" or "kvm";
    }

    /// <summary>
    /// Parses `coredumpctl --json=short list`: an array of objects with the list's columns in lower case (systemd
    /// src/coredump/coredumpctl.c: time, pid, uid, gid, sig, corefile, exe, size); time is microseconds since the epoch.
    /// </summary>
    internal static List<CoredumpctlEntry> ParseCoredumpctlJson(string json)
    {
        var entries = new List<CoredumpctlEntry>();
        using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
        if (document.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw new VmDebugException("CoredumpctlOutputInvalid", ErrorKind.ParserError, "coredumpctl --json=short did not print a JSON array.", "coredumpctl");
        }
        foreach (var item in document.RootElement.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                continue;
            }
            long? usec = Integer(item, "time");
            entries.Add(new CoredumpctlEntry(
                usec is { } us && us > 0 && us < DateTimeOffset.MaxValue.ToUnixTimeMilliseconds() * 1000 ? DateTimeOffset.UnixEpoch.AddTicks(us * 10) : null,
                Integer(item, "pid") is { } pid && pid is > 0 and <= int.MaxValue ? (int)pid : null,
                SignalOf(item),
                Text(item, "corefile"),
                Text(item, "exe"),
                Integer(item, "size")));
        }
        return entries;
    }

    private static int? SignalOf(JsonElement item)
    {
        if (Integer(item, "sig") is { } number && number is > 0 and < 128)
        {
            return (int)number;
        }
        var name = Text(item, "sig");
        if (name is null)
        {
            return null;
        }
        name = name.StartsWith("SIG", StringComparison.Ordinal) ? name[3..] : name;
        string[] names = ["", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM"];
        var index = Array.IndexOf(names, name);
        return index > 0 ? index : null;
    }

    private static long? Integer(JsonElement item, string name) =>
        item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : null;

    private static string? Text(JsonElement item, string name) =>
        item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}
